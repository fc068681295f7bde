"""A victim completes a survey on the web link; what they said is stored."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlmodel import select

from feedbackbot.app import Services
from feedbackbot.store.tables import Answer, FeedbackItem, SurveySession
from tests.support.victim import Victim


async def test_victim_completes_after_attendance_survey(client: TestClient[Any, Any], services: Services) -> None:
    victim = await Victim.invited(client, "after_attendance")
    opening = await victim.open()
    assert "West Midlands Police" in opening[0]
    assert "STOP" in " ".join(opening)
    await victim.say("yes")
    await victim.say("no")
    await victim.say("yes")
    for _ in range(6):
        if victim.finished:
            break
        await victim.say("4" if len(victim.heard) % 2 else "Nobody called me back after the visit")
    assert victim.finished
    async with services.db.session() as s:
        answers = (await s.exec(select(Answer))).all()
        feedback = (await s.exec(select(FeedbackItem))).all()
        survey = (await s.exec(select(SurveySession))).one()
    assert survey.status == "completed"
    assert [a.value for a in answers][:3] == ["yes", "no", "yes"]
    assert feedback, "the free-text answer became a feedback item"
