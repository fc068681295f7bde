"""The pure engine: answers understood in the forms people use, one gentle re-ask, keywords at any point."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feedbackbot.flows import engine
from feedbackbot.flows.loader import parse_flow
from feedbackbot.flows.model import Flow
from feedbackbot.flows.phrases import Phrases
from feedbackbot.settings import DEFAULT_PROMPTS_DIR

FLOW = """\
spec: 1
id: sample
version: 3
name: Sample
reminder:
  after: 24h
  text:
    en: "A reminder: you can still reply."
expiry:
  after: 3d
  text:
    en: "This survey has closed."
    pl: "Ankieta jest zamknięta."
steps:
  - id: intro
    type: message
    text:
      en: "Hello from {force_name} about {case_reference}."
      pl: "Dzień dobry od {force_name}."
    next: q_ok
  - id: q_ok
    type: question
    kind: yes_no
    text:
      en: "Were you kept informed? Reply YES or NO."
      pl: "Czy byłeś informowany? TAK lub NIE."
    branches:
      - when: "no"
        next: q_why
    next: q_feel
  - id: q_why
    type: question
    kind: text
    text:
      en: "What went wrong?"
    next: q_feel
  - id: q_feel
    type: question
    kind: choice
    text:
      en: "How do you feel about it?"
    options:
      - id: good
        text: {en: Good}
        synonyms: {en: [great, fine]}
      - id: okay
        text: {en: Okay}
        synonyms: {en: [okay-ish, so so, meh]}
      - id: bad
        text: {en: Bad}
    next: q_rate
  - id: q_rate
    type: question
    kind: scale
    text:
      en: "Rate us 1 to 5."
    next: end
  - id: end
    type: end
    text:
      en: "Thank you."
"""
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def flow() -> Flow:
    return parse_flow(FLOW, "sample.yaml")


@pytest.fixture(scope="module")
def phrases() -> Phrases:
    return Phrases.load(DEFAULT_PROMPTS_DIR / "phrases.yaml")


def texts(sprint: engine.Sprint) -> list[str]:
    return [e.text for e in sprint.events if isinstance(e, engine.MsgCreated)]


def answers(sprint: engine.Sprint) -> list[tuple[str, str | None]]:
    return [(e.step_id, e.value) for e in sprint.events if isinstance(e, engine.AnswerSaved)]


def run(flow: Flow, phrases: Phrases, *replies: str, language: str = "en") -> list[engine.Sprint]:
    sprint = engine.start(flow, phrases, language=language, at=NOW,
                          context={"force_name": "West Midlands Police", "case_reference": "20/1/26"})
    sprints = [sprint]
    for reply in replies:
        sprint = engine.resume(flow, phrases, sprint.state, engine.MessageResume(reply, NOW))
        sprints.append(sprint)
    return sprints


def test_start_sends_intro_and_first_question_with_case_details(flow: Flow, phrases: Phrases) -> None:
    [first] = run(flow, phrases)
    assert texts(first) == ["Hello from West Midlands Police about 20/1/26.",
                            "Were you kept informed? Reply YES or NO."]
    assert first.state.step == "q_ok"
    assert first.state.reminder_at == NOW + timedelta(hours=24)
    assert first.state.expires_at == NOW + timedelta(days=3)


@pytest.mark.parametrize("reply", ["yes", "Yes!", "y", "yeah", "YEP", "1", "tak", "haan", "yes they did, PC Khan rang"])
def test_yes_in_many_forms(flow: Flow, phrases: Phrases, reply: str) -> None:
    sprint = run(flow, phrases, reply)[-1]
    assert answers(sprint) == [("q_ok", "yes")]
    assert sprint.state.step == "q_feel"


@pytest.mark.parametrize(("reply", "option"), [("2", "okay"), ("two", "okay"), ("okay-ish", "okay"),
                                               ("Okay", "okay"), ("great", "good"), ("3", "bad"), ("so so", "okay")])
def test_choice_by_number_word_text_or_synonym(flow: Flow, phrases: Phrases, reply: str, option: str) -> None:
    sprint = run(flow, phrases, "yes", reply)[-1]
    assert answers(sprint) == [("q_feel", option)]


def test_choice_prompt_lists_numbered_options_and_offers_buttons(flow: Flow, phrases: Phrases) -> None:
    sprint = run(flow, phrases, "yes")[-1]
    assert texts(sprint) == ["How do you feel about it?\n1 Good\n2 Okay\n3 Bad"]
    [msg] = [e for e in sprint.events if isinstance(e, engine.MsgCreated)]
    assert [(q.text, q.label) for q in msg.quick_replies] == [("1", "Good"), ("2", "Okay"), ("3", "Bad")]


def test_branch_on_no_asks_why_and_free_text_becomes_feedback(flow: Flow, phrases: Phrases) -> None:
    sprints = run(flow, phrases, "no", "nobody rang me back for three weeks")
    assert texts(sprints[1]) == ["What went wrong?"]
    feedback = [e for e in sprints[2].events if isinstance(e, engine.FeedbackReceived)]
    assert feedback == [engine.FeedbackReceived("q_why", "nobody rang me back for three weeks", prompted=True)]


def test_one_gentle_reask_then_the_survey_moves_on(flow: Flow, phrases: Phrases) -> None:
    sprints = run(flow, phrases, "yes", "good", "banana", "still banana")
    assert texts(sprints[3]) == ["Sorry, I did not understand. Please reply with a number from 1 to 5, or SKIP to "
                                 "move on."]
    assert sprints[3].state.step == "q_rate"
    last = sprints[4]
    assert answers(last) == [("q_rate", None)]
    assert texts(last) == ["Thank you."]
    assert last.state.status == engine.COMPLETED


def test_unusable_reply_with_words_is_kept_for_a_person(flow: Flow, phrases: Phrases) -> None:
    sprint = run(flow, phrases, "he is outside my house right now")[-1]
    assert [e for e in sprint.events if isinstance(e, engine.FeedbackReceived)] == [
        engine.FeedbackReceived("q_ok", "he is outside my house right now", prompted=False)]


def test_skip_moves_on_and_records_the_skip(flow: Flow, phrases: Phrases) -> None:
    sprint = run(flow, phrases, "SKIP")[-1]
    assert [(e.step_id, e.skipped) for e in sprint.events if isinstance(e, engine.AnswerSaved)] == [("q_ok", True)]
    assert sprint.state.step == "q_feel"


def test_help_explains_and_repeats_the_question(flow: Flow, phrases: Phrases) -> None:
    sprint = run(flow, phrases, "help")[-1]
    said = texts(sprint)
    assert "Victim Support 0808 16 89 111" in said[0] and "999" in said[0]
    assert said[1] == "Were you kept informed? Reply YES or NO."
    assert sprint.state.step == "q_ok"


@pytest.mark.parametrize("keyword", ["STOP", "stop", "Unsubscribe", "END", "quit", "OPTOUT", "cancel", "Stop."])
def test_stop_at_any_point_opts_out_and_ends(flow: Flow, phrases: Phrases, keyword: str) -> None:
    sprint = run(flow, phrases, "yes", keyword)[-1]
    assert any(isinstance(e, engine.OptedOut) for e in sprint.events)
    assert texts(sprint) == ["You will not get any more survey messages from West Midlands Police. If you change "
                             "your mind, reply START. Support: Victim Support 0808 16 89 111."]
    assert sprint.state.status == engine.OPTED_OUT
    after = engine.resume(flow, phrases, sprint.state, engine.MessageResume("yes", NOW))
    assert after.events == ()


def test_please_stop_in_a_sentence_is_not_a_keyword(flow: Flow, phrases: Phrases) -> None:
    sprint = run(flow, phrases, "please stop texting me about this")[-1]
    assert not any(isinstance(e, engine.OptedOut) for e in sprint.events)


def test_language_switch_by_menu_and_by_name(flow: Flow, phrases: Phrases) -> None:
    sprints = run(flow, phrases, "language", "2")
    assert texts(sprints[1])[0].startswith("Which language would you like?")
    assert "2 Polski" in texts(sprints[1])[0]
    assert texts(sprints[2]) == ["Dobrze, będziemy pisać po polsku.", "Czy byłeś informowany? TAK lub NIE."]
    by_name = run(flow, phrases, "polski")[-1]
    assert by_name.state.language == "pl"


def test_missing_translation_falls_back_to_english(flow: Flow, phrases: Phrases) -> None:
    sprint = run(flow, phrases, "nie", language="pl")[-1]
    assert texts(sprint) == ["What went wrong?"]


def test_reminder_once_then_expiry(flow: Flow, phrases: Phrases) -> None:
    start = run(flow, phrases)[0]
    reminded = engine.resume(flow, phrases, start.state, engine.ReminderResume(NOW + timedelta(hours=24)))
    assert texts(reminded) == ["A reminder: you can still reply."]
    again = engine.resume(flow, phrases, reminded.state, engine.ReminderResume(NOW + timedelta(hours=48)))
    assert again.events == ()
    expired = engine.resume(flow, phrases, reminded.state, engine.ExpiryResume(NOW + timedelta(days=3)))
    assert texts(expired) == ["This survey has closed."]
    assert expired.state.status == engine.EXPIRED


def test_state_survives_json_round_trip(flow: Flow, phrases: Phrases) -> None:
    sprint = run(flow, phrases, "yes")[-1]
    restored = engine.SessionState.from_json(sprint.state.to_json())
    assert restored == sprint.state


def test_resume_refuses_a_different_flow_version(flow: Flow, phrases: Phrases) -> None:
    sprint = run(flow, phrases)[0]
    newer = parse_flow(FLOW.replace("version: 3", "version: 4"), "sample.yaml")
    with pytest.raises(ValueError, match="session is on sample v3"):
        engine.resume(newer, phrases, sprint.state, engine.MessageResume("yes", NOW))
