"""Danger changes the turn: safety guidance at once instead of the next question, and the reply classified."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlmodel import col, select

from feedbackbot.app import Services
from feedbackbot.store.tables import FeedbackItem, SurveySession
from tests.support.victim import Victim

DANGER = ("If you are in danger now, call 999. If you cannot speak, call 999 and press 55 when asked. A person at "
          "West Midlands Police will read your message. Victim Support: 0808 16 89 111.")


async def test_an_urgent_reply_gets_safety_guidance_and_pauses_the_survey(client: TestClient[Any, Any],
                                                                          services: Services) -> None:
    victim = await Victim.invited(client, "after_attendance")
    await victim.open()
    said = await victim.say("he is outside now banging on the door")
    assert said == [DANGER], "no rating question after a victim says they are in danger"
    async with services.db.session() as s:
        survey = (await s.exec(select(SurveySession))).one()
        [item] = (await s.exec(select(FeedbackItem))).all()
    assert survey.status == "paused"
    assert item.status == "classified" and item.classification["risk"] == "urgent"
    assert "immediate_danger" in item.classification["risk_categories"]
    assert item.model_version == "keyword-stand-in-1+net-v6"
    assert item.classification["cues"], "the cue that raised the risk is kept for the officer"


async def test_self_harm_gets_the_samaritans(client: TestClient[Any, Any]) -> None:
    victim = await Victim.invited(client, "after_attendance")
    await victim.open()
    [said] = await victim.say("honestly I just want to end it all")
    assert "Samaritans" in said and "116 123" in said


async def test_ordinary_free_text_is_classified_and_the_survey_goes_on(client: TestClient[Any, Any],
                                                                       services: Services) -> None:
    victim = await Victim.invited(client, "after_attendance")
    await victim.open()
    for reply in ("yes", "yes", "yes", "2"):
        await victim.say(reply)
    said = await victim.say("nobody gave me an update, please call me back")
    assert said and "999" in said[-1] and "Thank" in said[-1]
    async with services.db.session() as s:
        [item] = (await s.exec(select(FeedbackItem))).all()
    assert item.classification["risk"] == "none"
    assert "callback" in item.classification["requests"]
    assert "updates_and_information" in item.classification["themes"]


async def test_danger_after_the_survey_still_gets_guidance(client: TestClient[Any, Any], services: Services) -> None:
    victim = await Victim.invited(client, "after_101_call")
    await victim.open()
    while not victim.finished:
        await victim.say("skip")
    assert await victim.say("he is outside now") == [DANGER]


async def test_pending_feedback_is_classified_by_the_worker(client: TestClient[Any, Any], services: Services) -> None:
    services.conversation.classify = None  # as if the classifier had not been ready when the reply came
    victim = await Victim.invited(client, "after_attendance")
    await victim.open()
    await victim.say("the officer was kind but nobody rang me back")
    async with services.db.session() as s:
        assert (await s.exec(select(FeedbackItem.status))).all() == ["pending"]
    await services.scheduler.run_once()
    async with services.db.session() as s:
        item = (await s.exec(select(FeedbackItem).order_by(col(FeedbackItem.id)))).one()
    assert item.status == "classified" and item.model_version == "keyword-stand-in-1+net-v6"
