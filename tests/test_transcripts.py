"""Whole conversations from tests/transcripts/, run through the real app, engine and database.

Each file says what the victim sends, what the bot must say back (exactly) and what must be stored.
After changing a flow, rewrite them with ``--update-transcripts`` and review the diff like code.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient
from sqlmodel import col, select

from feedbackbot.app import Services
from feedbackbot.store.tables import Answer, FeedbackItem, SurveySession
from tests.support.victim import Victim

HERE = Path(__file__).parent / "transcripts"
FILES = sorted(HERE.glob("*.yaml"))
HEADER = ("# A whole conversation on the web link: what the victim sends, what the bot must say, what is stored.\n"
          "# Rewrite with `pytest tests/test_transcripts.py --update-transcripts` after changing a flow, then "
          "review the diff.\n")


def test_every_shipped_flow_has_transcripts() -> None:
    flows = {p.stem for p in (Path(__file__).parent.parent / "prompts" / "flows").glob("*.yaml")}
    covered = {yaml.safe_load(f.read_text(encoding="utf-8"))["flow"] for f in FILES}
    assert flows <= covered, f"flows without a transcript: {sorted(flows - covered)}"


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
async def test_transcript(path: Path, client: TestClient[Any, Any], services: Services,
                          request: pytest.FixtureRequest) -> None:
    script = yaml.safe_load(await asyncio.to_thread(path.read_text, encoding="utf-8"))
    victim = await Victim.invited(client, script["flow"], language=script["language"],
                                  reference="20/123456/26")
    heard: list[dict[str, Any]] = [{"bot": await victim.open()}]
    for turn in script["conversation"][1:]:
        heard.append({"victim": turn["victim"], "bot": await victim.say(turn["victim"])})
    async with services.db.session() as s:
        survey = (await s.exec(select(SurveySession))).one()
        answers = (await s.exec(select(Answer).order_by(col(Answer.id)))).all()
        feedback = (await s.exec(select(FeedbackItem).order_by(col(FeedbackItem.id)))).all()
    stored = {
        "status": survey.status,
        "answers": [[a.step_id, "(skipped)" if a.skipped else a.value] for a in answers],
        "feedback": [f.text for f in feedback],
    }
    if request.config.getoption("--update-transcripts"):
        if services.db.sqlite:
            script.update(conversation=heard, stored=stored)
            text = HEADER + yaml.safe_dump(script, allow_unicode=True, sort_keys=False, width=200)
            await asyncio.to_thread(path.write_text, text, encoding="utf-8")
        return
    for expected, actual in zip(script["conversation"], heard, strict=True):
        assert actual == expected
    assert stored == script["stored"]
