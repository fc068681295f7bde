"""Email through the real app: surveys sent to a stand-in relay, replies sent by smtplib into our SMTP listener."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlmodel import col, select

from feedbackbot.app import Services
from feedbackbot.channels.email import EmailChannel
from feedbackbot.channels.mailparse import message_ids
from feedbackbot.messages import Channel
from feedbackbot.settings import Settings
from feedbackbot.store.tables import Answer, ContactAddress, Message, SurveySession
from tests.support.clock import ManualClock
from tests.support.email_standin import (
    VICTIM,
    FailingOnce,
    Mail,
    RelayStandin,
    answer_for,
    email_channel,
    fixture,
    messages,
    question_in,
    reply_to,
    smtp_send,
)
from tests.support.server import free_port
from tests.support.victim import event_body, post_event

FROM = "West Midlands Police <feedback@wmp.test>"
REPLY_DOMAIN = "reply.wmp.test"
MAX_BYTES = 200_000


@pytest.fixture
async def relay() -> AsyncIterator[RelayStandin]:
    standin = await RelayStandin().start()
    yield standin
    await standin.close()


@pytest.fixture
def settings(settings: Settings, relay: RelayStandin) -> Settings:
    return settings.replace(smtp_host="127.0.0.1", smtp_port=relay.port, smtp_starttls=False, email_from=FROM,
                            email_reply_domain=REPLY_DOMAIN, smtp_listen_port=free_port(),
                            smtp_listen_max_bytes=MAX_BYTES, rate_limits=(("email", 1000.0),))


@pytest.fixture
def mail(client: TestClient[Any, Any], services: Services, relay: RelayStandin, clock: ManualClock) -> Mail:
    return Mail(services, relay, clock)


async def test_a_whole_survey_by_email(client: TestClient[Any, Any], services: Services, mail: Mail) -> None:
    first = await mail.invite(client)
    token = await mail.token()
    message = first.message
    assert message["Reply-To"] == f"reply+{token}@{REPLY_DOMAIN}"
    assert message["From"] == FROM
    assert first.mail_from == "feedback@wmp.test" and first.rcpt_tos == [VICTIM]
    assert {p.get_content_type() for p in message.walk()} >= {"text/plain", "text/html"}
    assert "0808 16 89 111" in first.part("plain") and "999" in first.part("plain")
    assert len(mail.inbox()) == 1, "the invitation is one email: the opening words and the first question"
    assert "YES or NO" in question_in(first.part("plain"))
    sent = await messages(services, "out")
    assert {m.provider_id for m in sent} == {m.message["Message-ID"] for m in mail.inbox()}, \
        "each email's Message-ID is its provider id"
    root = str(mail.inbox()[0].message["Message-ID"])

    for _ in range(15):
        question = question_in(mail.inbox()[-1].part("plain"))
        last_reply_id = f"<turn-{len(mail.inbox())}@example.org>"
        came_back = await mail.answer(answer_for(question), message_id=last_reply_id)
        if not came_back:
            break
        threaded = came_back[0].message
        assert threaded["In-Reply-To"] == last_reply_id, "our answer threads to the victim's email"
        assert message_ids(threaded["References"])[0] == root
        assert threaded["Subject"].startswith("Re: ")
        async with services.db.session() as s:
            survey = (await s.exec(select(SurveySession))).one()
        if survey.status != "active":
            break
    async with services.db.session() as s:
        survey = (await s.exec(select(SurveySession))).one()
        answers = (await s.exec(select(Answer))).all()
    assert survey.status == "completed"
    assert survey.address == f"mailto:{VICTIM}"
    assert [a.value for a in answers][:2] == ["yes", "yes"]
    inbound = await messages(services)
    assert all(m.status == "processed" and m.address == f"mailto:{VICTIM}" for m in inbound)
    assert inbound[0].text == "yes", "the quoted question never reached the engine"


@pytest.mark.parametrize("client_fixture", ["gmail_reply.eml", "outlook_reply.eml", "apple_mail_reply.eml",
                                            "plain_client.eml"])
async def test_real_clients_replies_arrive_as_their_new_words(client: TestClient[Any, Any], services: Services,
                                                              mail: Mail, client_fixture: str) -> None:
    first = await mail.invite(client)
    ours = str(first.message["Message-ID"])
    raw = fixture(client_fixture, victim=VICTIM, reply_to=str(first.message["Reply-To"]), in_reply_to=ours,
                  references=ours)
    code, _ = await mail.send(raw)
    assert code == 250
    stored = await messages(services)
    assert len(stored) == 1
    assert ">" not in stored[0].text and "wrote:" not in stored[0].text and "<div" not in stored[0].text
    assert "West Midlands Police" not in stored[0].text
    assert stored[0].provider_id == message_ids(raw.decode("utf-8", "replace").split("Message-I", 1)[1])[0]


async def test_a_redelivered_reply_is_stored_once(client: TestClient[Any, Any], services: Services,
                                                  mail: Mail) -> None:
    first = await mail.invite(client)
    raw = reply_to(first, "yes", message_id="<same-message@example.org>")
    assert (await mail.send(raw))[0] == 250
    assert (await mail.send(raw))[0] == 250, "a repeat is acknowledged, so the sender stops retrying"
    await mail.work()
    stored = await messages(services)
    assert [m.provider_id for m in stored] == ["<same-message@example.org>"]
    async with services.db.session() as s:
        assert len((await s.exec(select(Answer))).all()) == 1


async def test_an_oversized_message_gets_552_and_nothing_is_stored(client: TestClient[Any, Any],
                                                                    services: Services, mail: Mail) -> None:
    first = await mail.invite(client)
    raw = reply_to(first, "yes " + "x" * (MAX_BYTES + 10))
    code, _ = await mail.send(raw)
    assert code == 552
    assert await messages(services) == []


async def test_a_failure_to_commit_gets_451_and_the_retry_is_stored(client: TestClient[Any, Any],
                                                                     services: Services, mail: Mail) -> None:
    first = await mail.invite(client)
    app_channel = email_channel(services)
    flaky = EmailChannel(services.settings.replace(smtp_listen_port=free_port()), services.db,
                         FailingOnce(app_channel.sink), services.clock)
    await flaky.start()
    try:
        raw = reply_to(first, "yes")
        rcpt = [str(first.message["Reply-To"])]
        assert flaky.listen_port is not None
        code, text = await smtp_send(flaky.listen_port, raw, rcpt_tos=rcpt)
        assert code == 451, text
        assert await messages(services) == [], "nothing half-stored"
        code, _ = await smtp_send(flaky.listen_port, raw, rcpt_tos=rcpt)
        assert code == 250
    finally:
        await flaky.stop()
    assert len(await messages(services)) == 1


async def test_a_reply_from_another_address_continues_the_survey(client: TestClient[Any, Any],
                                                                 services: Services, mail: Mail) -> None:
    await mail.invite(client)
    came_back = await mail.answer("yes", sender="jane@work.example.com")
    assert came_back, "the survey moved on"
    stored = await messages(services)
    assert stored[0].address == f"mailto:{VICTIM}", "filed under the survey's address, matched by Message-ID"
    assert came_back[0].rcpt_tos == [VICTIM], "and we keep writing to the address the force gave us"


async def test_the_reply_address_alone_matches_the_survey(client: TestClient[Any, Any], services: Services,
                                                          mail: Mail) -> None:
    first = await mail.invite(client)
    raw = reply_to(first, "yes", threading=False, sender="jane@work.example.com")
    assert (await mail.send(raw, mail_from="jane@work.example.com"))[0] == 250
    assert [m.address for m in await messages(services)] == [f"mailto:{VICTIM}"]


async def test_mail_matching_nothing_is_refused_and_a_known_sender_is_not(client: TestClient[Any, Any],
                                                                          services: Services, mail: Mail) -> None:
    first = await mail.invite(client)
    general = f"reply@{REPLY_DOMAIN}"
    stranger = reply_to(first, "yes", threading=False, sender="someone@elsewhere.example", to=general)
    code, text = await mail.send(stranger, mail_from="someone@elsewhere.example", to=general)
    assert code == 550 and "reply to our email" in text
    known = reply_to(first, "yes", threading=False, to=general)
    assert (await mail.send(known, to=general))[0] == 250
    assert [m.address for m in await messages(services)] == [f"mailto:{VICTIM}"]
    code, _ = await mail.send(known, to=f"someone@{REPLY_DOMAIN}")
    assert code == 550, "the listener only takes mail for reply addresses"


async def test_mail_from_our_own_address_is_not_a_reply(client: TestClient[Any, Any], services: Services,
                                                        mail: Mail) -> None:
    first = await mail.invite(client)
    echo = reply_to(first, "Did the officers listen to you?", sender="feedback@wmp.test")
    assert (await mail.send(echo, mail_from="feedback@wmp.test"))[0] == 250
    assert await messages(services) == [], "a loop through a forwarding rule is dropped"


async def test_a_bounce_marks_the_address_and_is_not_a_reply(client: TestClient[Any, Any], services: Services,
                                                            mail: Mail) -> None:
    first = await mail.invite(client)
    reply_address = str(first.message["Reply-To"])
    forged = fixture("bounce_dsn.eml", victim=VICTIM, reply_to=f"reply@{REPLY_DOMAIN}",
                     bounced_id="<not-ours@elsewhere.example>")
    assert (await mail.send(forged, mail_from="", to=f"reply@{REPLY_DOMAIN}"))[0] == 250
    async with services.db.session() as s:
        row = (await s.exec(select(ContactAddress).where(ContactAddress.channel == Channel.EMAIL.value))).one()
    assert row.status == "ok", "a bounce that names none of our emails changes nothing"

    bounce = fixture("bounce_dsn.eml", victim=VICTIM, reply_to=reply_address,
                     bounced_id=str(first.message["Message-ID"]))
    assert (await mail.send(bounce, mail_from="", to=reply_address))[0] == 250
    async with services.db.session() as s:
        row = (await s.exec(select(ContactAddress).where(ContactAddress.channel == Channel.EMAIL.value))).one()
    assert row.status != "ok"
    assert row.status_reason is not None and "5.1.1" in row.status_reason
    assert await messages(services) == [], "a bounce is not the victim's reply"


async def test_an_out_of_office_reply_does_not_move_the_survey(client: TestClient[Any, Any], services: Services,
                                                               mail: Mail) -> None:
    first = await mail.invite(client)
    sent_before = len(mail.inbox())
    async with services.db.session() as s:
        step_before = (await s.exec(select(SurveySession))).one().current_step
    raw = fixture("out_of_office.eml", victim=VICTIM, reply_to=str(first.message["Reply-To"]),
                  in_reply_to=str(first.message["Message-ID"]))
    assert (await mail.send(raw, mail_from=""))[0] == 250
    await mail.work()
    async with services.db.session() as s:
        assert (await s.exec(select(SurveySession))).one().current_step == step_before
    assert len(mail.inbox()) == sent_before, "no answer to an automatic reply (no mail loop)"
    assert await messages(services) == []


async def test_relay_refusals(client: TestClient[Any, Any], services: Services, relay: RelayStandin,
                              mail: Mail, clock: ManualClock) -> None:
    relay.refuse(VICTIM, "550 5.1.1 <jane.doe@example.org>: Recipient address rejected: User unknown")
    response = await post_event(client, event_body("after_attendance", channel="email", email=VICTIM))
    assert response.status == 201
    clock.advance(days=1)
    await mail.work()
    [invitation] = await messages(services, "out")  # one email: the opening words and the first question
    assert (invitation.status, invitation.error_code) == ("failed", "smtp_550")
    assert mail.inbox() == []
    async with services.db.session() as s:
        row = (await s.exec(select(ContactAddress).where(ContactAddress.channel == Channel.EMAIL.value))).one()
    assert row.status != "ok", "a refused recipient marks the address"


async def test_a_busy_relay_is_retried_later(client: TestClient[Any, Any], services: Services,
                                             relay: RelayStandin, mail: Mail, clock: ManualClock) -> None:
    relay.refuse(VICTIM, "451 4.3.0 Try again later")
    response = await post_event(client, event_body("after_attendance", channel="email", email=VICTIM))
    assert response.status == 201
    clock.advance(days=1)
    await mail.work()
    queued = await messages(services, "out")
    assert queued and all(m.status == "queued" for m in queued)
    assert queued[0].attempts == 1 and queued[0].error_code == "smtp_451"
    assert queued[0].next_attempt_at is not None and queued[0].next_attempt_at > clock.now()
    relay.handler.refuse.clear()
    clock.advance(hours=2)
    await mail.work()
    assert all(m.status == "sent" for m in await messages(services, "out"))
    assert len(mail.inbox()) == len(queued)


async def test_an_interrupted_send_is_held_not_repeated(client: TestClient[Any, Any], services: Services,
                                                        mail: Mail, clock: ManualClock) -> None:
    response = await post_event(client, event_body("after_attendance", channel="email", email=VICTIM))
    assert response.status == 201
    clock.advance(days=1)
    await services.scheduler.run_once()
    async with services.db.session() as s:
        await s.exec(update(Message).where(col(Message.direction) == "out")
                     .values(status="sending", claimed_at=clock.now()))
    clock.advance(minutes=10)
    await mail.outbox.run_once()
    held = await messages(services, "out")
    assert held and all(m.status == "unknown" for m in held), "SMTP cannot say; a person checks before a resend"
    assert mail.inbox() == []
    assert clock.now() - timedelta(minutes=10) <= (held[0].updated_at or clock.now())
