"""A victim completes a survey on the web link; what they said is stored."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlmodel import select

from feedbackbot.app import Services
from feedbackbot.store.tables import Answer, FeedbackItem, Message, SurveySession
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


async def test_a_turn_that_fails_in_its_transaction_still_keeps_and_answers_the_reply(
        client: TestClient[Any, Any], services: Services, monkeypatch: Any) -> None:
    victim = await Victim.invited(client, "after_attendance")
    await victim.open()
    conversation = services.conversation
    real = conversation._process
    failures: list[int] = []

    async def fails_once(*args: Any, **kwargs: Any) -> list[int]:
        if not failures:
            failures.append(1)
            raise RuntimeError("the database went away for a moment")
        return await real(*args, **kwargs)

    monkeypatch.setattr(conversation, "_process", fails_once)
    said = await victim.say("he is outside my house now", client_id="retry-check-0001")
    # The one-transaction turn was rolled back; the reply was then stored on its own and carried out.
    assert failures == [1]
    assert said and "999" in " ".join(said), said
    assert conversation._classified == {}, "no reading is left behind for an id that was rolled back"
    async with services.db.session() as s:
        stored = (await s.exec(select(Message).where(Message.direction == "in"))).all()
        feedback = (await s.exec(select(FeedbackItem))).all()
    assert [(m.text, m.status) for m in stored] == [("he is outside my house now", "processed")]
    assert len(feedback) == 1 and feedback[0].classification["risk"] == "urgent"
