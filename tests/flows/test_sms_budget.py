"""Every message of every shipped flow and shared phrase fits in two SMS segments, GSM-7 in English."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from feedbackbot.flows.keywords import LANGUAGE_SELF_NAMES
from feedbackbot.flows.loader import load_flows
from feedbackbot.flows.phrases import Phrases
from feedbackbot.flows.render import SAMPLE_CONTEXT, render_prompt, render_text
from feedbackbot.settings import DEFAULT_PROMPTS_DIR
from feedbackbot.sms import count_segments

MAX_SEGMENTS = 2


def every_message() -> Iterator[tuple[str, str, str]]:
    for source in load_flows(DEFAULT_PROMPTS_DIR / "flows", max_segments=99).values():
        flow = source.flow
        for step in flow.steps.values():
            for lang in step.text.by_language:
                yield f"{flow.id}/{step.id}", lang, render_prompt(step, lang, SAMPLE_CONTEXT)
            if step.reask is not None:
                for lang in step.reask.by_language:
                    yield f"{flow.id}/{step.id}/reask", lang, render_text(step.reask, lang, SAMPLE_CONTEXT)
        for what, timed in (("reminder", flow.reminder), ("expiry", flow.expiry)):
            if timed is not None:
                for lang in timed.text.by_language:
                    yield f"{flow.id}/{what}", lang, render_text(timed.text, lang, SAMPLE_CONTEXT)
    phrases = Phrases.load(DEFAULT_PROMPTS_DIR / "phrases.yaml")
    menu = "\n".join(f"{i} {name}" for i, name in enumerate(LANGUAGE_SELF_NAMES.values(), 1))
    for key, text in phrases.texts.items():
        for lang in text.by_language:
            yield f"phrases/{key}", lang, phrases.say(key, lang, SAMPLE_CONTEXT, min=1, max=5, menu=menu)


MESSAGES = list(every_message())


def test_there_are_messages_to_check() -> None:
    assert len(MESSAGES) > 100
    assert {"en", "pl", "ur"} <= {lang for _, lang, _ in MESSAGES}


@pytest.mark.parametrize(("where", "language", "text"), MESSAGES, ids=[f"{w}[{lang}]" for w, lang, _ in MESSAGES])
def test_message_fits_the_sms_budget(where: str, language: str, text: str) -> None:
    count = count_segments(text)
    assert count.segments <= MAX_SEGMENTS, f"{where} [{language}] is {count}"
    if language == "en":
        assert count.encoding == "GSM-7", f"{where} [en] is not GSM-7: {text!r}"


@pytest.mark.parametrize(("text", "encoding", "segments"), [
    ("a" * 160, "GSM-7", 1), ("a" * 161, "GSM-7", 2), ("a" * 306, "GSM-7", 2), ("a" * 307, "GSM-7", 3),
    ("{" * 80, "GSM-7", 1), ("{" * 81, "GSM-7", 2), ("ł" * 70, "UCS-2", 1), ("ł" * 71, "UCS-2", 2),
    ("ł" * 134, "UCS-2", 2), ("ł" * 135, "UCS-2", 3), ("’", "UCS-2", 1), ("£5 é", "GSM-7", 1),
])
def test_segment_counting(text: str, encoding: str, segments: int) -> None:
    count = count_segments(text)
    assert (count.encoding, count.segments) == (encoding, segments)
