"""Nothing lost, nothing repeated: duplicate posts, replies after the survey, timeouts and flow versions."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlmodel import col, select

from feedbackbot.app import Services, build_services
from feedbackbot.messages import Address, Channel, InboundMessage
from feedbackbot.nlp import KeywordClassifier
from feedbackbot.nlp.types import Classification
from feedbackbot.settings import DEFAULT_PROMPTS_DIR
from feedbackbot.store.tables import Answer, FeedbackItem, Message, SurveySession
from tests.support.clock import ManualClock
from tests.support.victim import Victim


async def test_the_same_reply_posted_twice_is_one_step(client: TestClient[Any, Any], services: Services) -> None:
    victim = await Victim.invited(client, "after_attendance")
    await victim.open()
    results = await asyncio.gather(victim.say("yes", client_id="same-id-123"),
                                   victim.say("yes", client_id="same-id-123"))
    async with services.db.session() as s:
        answers = (await s.exec(select(Answer))).all()
        inbound = (await s.exec(select(Message).where(Message.direction == "in"))).all()
    assert [a.step_id for a in answers] == ["q_respect"]
    assert len(inbound) == 1
    assert sum(len(r) for r in results) >= 1


async def test_replies_after_the_survey_are_kept_for_a_person(client: TestClient[Any, Any],
                                                              services: Services) -> None:
    victim = await Victim.invited(client, "after_101_call")
    await victim.open()
    for reply in ("skip", "skip", "skip", "skip", "skip"):
        if victim.finished:
            break
        await victim.say(reply)
    assert victim.finished
    answer = await victim.say("actually he came back last night and smashed my window")
    assert answer and answer[0].startswith("Thank you for your message.")
    assert "999" in answer[0]
    quiet = await victim.say("and again this morning")
    assert quiet == [], "the not-a-survey notice is not repeated within a day"
    async with services.db.session() as s:
        items = (await s.exec(select(FeedbackItem).where(col(FeedbackItem.prompted).is_(False)))).all()
    assert [i.text for i in items] == ["actually he came back last night and smashed my window",
                                       "and again this morning"]


async def test_reminder_then_expiry_through_the_scheduler(client: TestClient[Any, Any], services: Services,
                                                          clock: ManualClock) -> None:
    victim = await Victim.invited(client, "after_attendance")
    await victim.open()
    clock.advance(hours=24, minutes=1)
    await services.scheduler.run_once()
    clock.advance(days=3)
    await services.scheduler.run_once()
    async with services.db.session() as s:
        sent = (await s.exec(select(Message.purpose).where(Message.direction == "out")
                             .order_by(col(Message.id)))).all()
        survey = (await s.exec(select(SurveySession))).one()
    assert sent[-2:] == ["reminder", "expiry"]
    assert survey.status == "expired"


async def test_reminders_wait_for_the_end_of_quiet_hours(client: TestClient[Any, Any], services: Services,
                                                         clock: ManualClock) -> None:
    victim = await Victim.invited(client, "after_attendance")
    await victim.open()  # 10:00 GMT on 10 March; the reminder falls due 24 hours later
    clock.advance(hours=36)  # 22:00 GMT the next day: due, but inside quiet hours
    await services.scheduler.run_once()
    async with services.db.session() as s:
        assert "reminder" not in (await s.exec(select(Message.purpose))).all()
    clock.advance(hours=10, minutes=30)  # 08:30 GMT
    await services.scheduler.run_once()
    async with services.db.session() as s:
        assert "reminder" in (await s.exec(select(Message.purpose))).all()


async def test_a_session_finishes_on_the_flow_version_it_started_on(
    client: TestClient[Any, Any], services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    victim = await Victim.invited(client, "after_attendance")
    await victim.open()
    await victim.say("yes")
    # An administrator publishes version 2 with a reworded question.
    prompts = tmp_path / "prompts"
    shutil.copytree(DEFAULT_PROMPTS_DIR, prompts)
    flow_file = prompts / "flows" / "after_attendance.yaml"
    text = flow_file.read_text(encoding="utf-8").replace("version: 1", "version: 2", 1)
    text = text.replace("Did the officers tell you what will happen next", "NEW WORDING: did officers say what is next")
    flow_file.write_text(text, encoding="utf-8")
    newer = build_services(services.settings.replace(prompts_dir=prompts), clock)
    await newer.flows.publish(newer.db, clock.now())
    newcomer_flow = newer.flows.latest("after_attendance")
    assert newcomer_flow.version == 2
    # The running session continues on version 1, loaded from the published copy in the database.
    services.flows.current = newer.flows.current
    services.flows._by_version.pop(("after_attendance", 1))
    reply = await victim.say("no")
    await newer.db.dispose()
    assert not any("NEW WORDING" in r for r in reply)
    async with services.db.session() as s:
        survey = (await s.exec(select(SurveySession))).one()
    assert survey.flow_version == 1


async def test_while_the_model_reads_a_reply_other_messages_are_still_stored(client: TestClient[Any, Any],
                                                                            services: Services,
                                                                            clock: ManualClock) -> None:
    """A reply is read before its turn's transaction, so the one SQLite connection is never held waiting for
    the model (every provider's acknowledgement needs it); the turn still acts on what the model read."""
    model, gate = KeywordClassifier(), asyncio.Event()
    reading_started = asyncio.Event()

    async def slow_model(text: str) -> Classification:
        reading_started.set()
        await gate.wait()
        return model.classify([text])[0]

    services.conversation.classify = slow_model
    victim = Address.parse("tel:+447700900123")
    sms = InboundMessage(Channel.SMS, victim, "he is outside my door right now", "SM-first", clock.now())
    await services.conversation.receive(sms)
    turn = asyncio.create_task(services.conversation.process_pending(str(victim)))
    await asyncio.wait_for(reading_started.wait(), 10)
    other = InboundMessage(Channel.SMS, Address.parse("tel:+447700900456"), "thank you", "SM-other", clock.now())
    stored = await asyncio.wait_for(services.conversation.receive(other), 10)
    assert stored.new
    gate.set()
    await turn
    async with services.db.session() as s:
        item = (await s.exec(select(FeedbackItem).where(FeedbackItem.text == sms.text))).one()
        told = (await s.exec(select(Message.purpose).where(Message.direction == "out",
                                                          Message.address == str(victim)))).all()
    assert item.status == "classified" and item.classification["risk"] == "urgent"
    assert "safety" in told  # guidance in the same turn, from the reading made before it
