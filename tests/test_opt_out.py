"""STOP and its synonyms opt a victim out at once and for good, on every channel; START opts back in."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlmodel import select

from feedbackbot.app import Services
from feedbackbot.store.tables import Contact, Invitation, SurveySession
from tests.support.clock import ManualClock
from tests.support.victim import Victim, event_body, post_event

CONFIRMATION = ("You will not get any more survey messages from West Midlands Police. If you change your mind, "
                "reply START. Support: Victim Support 0808 16 89 111.")


@pytest.mark.parametrize("keyword", ["STOP", "UNSUBSCRIBE", "END", "QUIT", "OPTOUT", "stop", "Stop!"])
async def test_each_keyword_opts_out_with_one_confirmation(client: TestClient[Any, Any], services: Services,
                                                           keyword: str) -> None:
    victim = await Victim.invited(client, "after_attendance", victim_ref=f"P-{keyword}")
    await victim.open()
    await victim.say("yes")
    assert await victim.say(keyword) == [CONFIRMATION]
    assert victim.finished
    assert await victim.say("STOP") == [], "the opt-out is confirmed once, not on every STOP"
    async with services.db.session() as s:
        contact = (await s.exec(select(Contact).where(Contact.external_ref == f"P-{keyword}"))).one()
        survey = (await s.exec(select(SurveySession).where(SurveySession.contact_id == contact.id))).one()
    assert contact.opted_out_at is not None
    assert survey.status == "opted_out"


async def test_opt_out_cancels_other_surveys_and_pending_invitations(client: TestClient[Any, Any],
                                                                     services: Services, clock: ManualClock) -> None:
    web = await Victim.invited(client, "after_101_call", victim_ref="P-MULTI")
    await web.open()
    clock.advance(days=30)
    sms = await post_event(client, event_body("after_attendance", channel="sms", phone="07700 900555",
                                              victim_ref="P-MULTI"))
    sms_invitation = (await sms.json())["invitation"]["id"]
    await web.say("stop")
    async with services.db.session() as s:
        invitation = await s.get(Invitation, sms_invitation)
    assert invitation is not None
    assert (invitation.status, invitation.status_reason) == ("cancelled", "opted_out")


async def test_start_opts_back_in(client: TestClient[Any, Any], services: Services, clock: ManualClock) -> None:
    victim = await Victim.invited(client, "after_attendance", victim_ref="P-BACK")
    await victim.open()
    await victim.say("STOP")
    assert await victim.say("START") == [
        "Thank you. You can hear from West Midlands Police surveys again. Reply STOP at any time to stop."]
    clock.advance(days=40)
    again = await post_event(client, event_body("case_filed", victim_ref="P-BACK"))
    assert again.status == 201
