"""Email replies by IMAP polling, against a real dovecot: a whole survey, flags only after commit, bounces."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlmodel import select

from feedbackbot.app import Services
from feedbackbot.channels.email import EmailChannel
from feedbackbot.channels.imap import MAX_FAILURES
from feedbackbot.settings import Settings
from feedbackbot.store.tables import Answer, ContactAddress, SurveySession
from tests.support.clock import ManualClock
from tests.support.email_standin import (
    VICTIM,
    Dovecot,
    FailingOnce,
    Mail,
    RelayStandin,
    answer_for,
    email_channel,
    fixture,
    messages,
    reply_to,
)

MAX_BYTES = 100_000


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        yield server


@pytest.fixture
async def relay() -> AsyncIterator[RelayStandin]:
    standin = await RelayStandin().start()
    yield standin
    await standin.close()


@pytest.fixture
def settings(settings: Settings, relay: RelayStandin, dovecot: Dovecot) -> Settings:
    # Replies go to the force's own mailbox (plus-addressed reply+<token>@), which we poll; no listener.
    return settings.replace(smtp_host="127.0.0.1", smtp_port=relay.port, smtp_starttls=False,
                            email_from="West Midlands Police <feedback@wmp.test>", email_reply_domain="wmp.test",
                            smtp_listen_port=0, imap_host="127.0.0.1", imap_port=dovecot.port, imap_ssl=False,
                            imap_username=dovecot.user, imap_password=dovecot.password, imap_poll_seconds=3600,
                            smtp_listen_max_bytes=MAX_BYTES, rate_limits=(("email", 1000.0),))


class MailboxMail(Mail):
    """Replies land in the mailbox and are collected by a poll, as when the force keeps its own mail."""

    def __init__(self, services: Services, relay: RelayStandin, clock: ManualClock, dovecot: Dovecot) -> None:
        super().__init__(services, relay, clock)
        self.dovecot = dovecot

    async def send(self, raw: bytes, *, mail_from: str = VICTIM, to: str | None = None) -> tuple[int, str]:
        self.dovecot.append(raw)
        await self.channel.poll_imap_once()
        return 250, "polled"


@pytest.fixture
def mail(client: TestClient[Any, Any], services: Services, relay: RelayStandin, clock: ManualClock,
         dovecot: Dovecot) -> MailboxMail:
    return MailboxMail(services, relay, clock, dovecot)


async def test_a_whole_survey_through_the_mailbox(client: TestClient[Any, Any], services: Services,
                                                  mail: MailboxMail, dovecot: Dovecot) -> None:
    first = await mail.invite(client)
    assert str(first.message["Reply-To"]).startswith("reply+") and first.message["Reply-To"].endswith("@wmp.test")
    for _ in range(15):
        question = mail.inbox()[-1].part("plain").split("\n\n")[0]
        if not await mail.answer(answer_for(question)):
            break
        async with services.db.session() as s:
            if (await s.exec(select(SurveySession))).one().status != "active":
                break
    async with services.db.session() as s:
        survey = (await s.exec(select(SurveySession))).one()
        answers = (await s.exec(select(Answer))).all()
    assert survey.status == "completed"
    assert answers
    flags = dovecot.flags()
    assert flags and all(f == {"\\Seen"} for f in flags), "every reply marked seen once stored, none flagged"
    assert await mail.channel.poll_imap_once() == 0, "nothing is taken twice"


async def test_mail_for_no_survey_is_flagged_for_a_person(client: TestClient[Any, Any], services: Services,
                                                          mail: MailboxMail, dovecot: Dovecot) -> None:
    first = await mail.invite(client)
    await mail.send(reply_to(first, "Can someone call me?", threading=False, sender="someone@elsewhere.example",
                             to="feedback@wmp.test"))
    assert await messages(services) == []
    assert dovecot.flags() == [{"\\Seen", "\\Flagged"}], "left in the mailbox, flagged, for a person to read"


async def test_a_message_is_marked_seen_only_after_it_is_committed(client: TestClient[Any, Any],
                                                                   services: Services, mail: MailboxMail,
                                                                   dovecot: Dovecot) -> None:
    first = await mail.invite(client)
    flaky = EmailChannel(services.settings, services.db, FailingOnce(email_channel(services).sink), services.clock)
    dovecot.append(reply_to(first, "yes"))
    assert await flaky.poll_imap_once() == 0
    assert dovecot.flags() == [set()], "not committed, so still unseen"
    assert await messages(services) == []
    assert await flaky.poll_imap_once() == 1
    assert dovecot.flags() == [{"\\Seen"}]
    assert len(await messages(services)) == 1


async def test_a_message_that_keeps_failing_is_flagged_for_a_person(client: TestClient[Any, Any],
                                                                    services: Services, mail: MailboxMail,
                                                                    dovecot: Dovecot) -> None:
    first = await mail.invite(client)
    broken = FailingOnce(email_channel(services).sink)
    broken.failures = MAX_FAILURES
    flaky = EmailChannel(services.settings, services.db, broken, services.clock)
    dovecot.append(reply_to(first, "yes"))
    for _ in range(MAX_FAILURES - 1):
        assert await flaky.poll_imap_once() == 0
        assert dovecot.flags() == [set()]
    assert await flaky.poll_imap_once() == 0
    assert dovecot.flags() == [{"\\Seen", "\\Flagged"}], "not tried for ever: a person looks at it"


async def test_a_bounce_in_the_mailbox_marks_the_address(client: TestClient[Any, Any], services: Services,
                                                         mail: MailboxMail) -> None:
    first = await mail.invite(client)
    await mail.send(fixture("bounce_dsn.eml", victim=VICTIM, reply_to="feedback@wmp.test",
                            bounced_id=str(first.message["Message-ID"])))
    async with services.db.session() as s:
        row = (await s.exec(select(ContactAddress).where(ContactAddress.path == VICTIM))).one()
    assert row.status != "ok"
    assert await messages(services) == []


async def test_an_oversized_message_is_left_for_a_person(client: TestClient[Any, Any], services: Services,
                                                         mail: MailboxMail, dovecot: Dovecot) -> None:
    first = await mail.invite(client)
    await mail.send(reply_to(first, "yes " + "x" * (MAX_BYTES + 10)))
    assert await messages(services) == []
    assert dovecot.flags() == [{"\\Seen", "\\Flagged"}]


async def test_the_background_poller_collects_replies(client: TestClient[Any, Any], services: Services,
                                                      mail: MailboxMail, dovecot: Dovecot) -> None:
    first = await mail.invite(client)
    quick = EmailChannel(services.settings.replace(imap_poll_seconds=0.05), services.db,
                         email_channel(services).sink, services.clock)
    await quick.start()
    try:
        dovecot.append(reply_to(first, "yes"))
        for _ in range(200):
            if dovecot.flags() == [{"\\Seen"}]:
                break
            await asyncio.sleep(0.05)
    finally:
        await quick.stop()
    assert dovecot.flags() == [{"\\Seen"}]
    assert [m.text for m in await messages(services)] == ["yes"]
