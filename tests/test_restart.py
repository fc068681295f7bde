"""The server process dies mid-survey (SIGKILL) and comes back on the same database: nothing lost or repeated."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import Server

pytestmark = pytest.mark.slow

RESPECT = "Did the officers listen to you and treat you with respect?"
NEXT_STEPS = "Did the officers tell you what will happen next"
SUPPORT = "Did the officers tell you about support you can get"
OVERALL = "Overall, how happy are you with how the officers dealt with you?"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path / "feedbackbot.db")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def transcript(server: Server, token: str) -> list[dict[str, Any]]:
    """Every message of the conversation, as the page's script reads it."""
    response = server.get(f"/s/{token}/messages?after=0")
    assert response.status == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


def say(server: Server, token: str, text: str, client_id: str) -> list[str]:
    """Reply as the page's script does; return what the bot said back."""
    response = server.post_json(f"/s/{token}/messages", {"text": text, "client_id": client_id})
    assert response.status == 200, response.text
    return [m["text"] for m in response.json()["messages"] if m["from"] == "police"]


def answers(server: Server, token: str) -> list[tuple[str, str | None]]:
    return [(step, value) for step, value in server.query(
        "SELECT a.step_id, a.value FROM answers a JOIN survey_sessions s ON s.id = a.session_id "
        "WHERE s.address = ? ORDER BY a.id", (f"web:{token}",))]


def current_step(server: Server, token: str) -> str:
    rows = server.query("SELECT current_step FROM survey_sessions WHERE address = ?", (f"web:{token}",))
    assert len(rows) == 1, rows
    step: str = rows[0][0]
    return step


def assert_no_repeats(messages: list[dict[str, Any]]) -> None:
    ids = [m["id"] for m in messages]
    assert ids == sorted(set(ids)), "message ids are unique and in order"
    said = [m["text"] for m in messages if m["from"] == "police"]
    assert len(said) == len(set(said)), f"the bot repeated itself: {said}"


def test_killed_mid_survey_continues_at_the_same_step(server: Server) -> None:
    token = server.invite("after_attendance")
    assert server.get(f"/s/{token}").status == 200  # opening the link starts the survey
    assert RESPECT in transcript(server, token)[-1]["text"]
    assert NEXT_STEPS in say(server, token, "yes", "answer-0001")[0]
    assert SUPPORT in say(server, token, "no", "answer-0002")[0]
    before = transcript(server, token)
    page_before = server.get(f"/s/{token}").text

    server.kill()
    server.start()

    after = transcript(server, token)
    assert after == before, "the restart lost or added messages"
    assert server.get(f"/s/{token}").text == page_before
    assert current_step(server, token) == "q_support"

    # The browser never saw the answer to its last post (the server died) and sends it again: it is the
    # same message, so nothing is stored twice and the bot does not move on or ask again.
    resent = say(server, token, "no", "answer-0002")
    assert len(resent) == 1 and SUPPORT in resent[0]
    assert transcript(server, token) == before

    # The next answer continues exactly where the victim was.
    replies = say(server, token, "yes", "answer-0003")
    assert len(replies) == 1 and OVERALL in replies[0], replies
    assert answers(server, token) == [("q_respect", "yes"), ("q_next_steps", "no"), ("q_support", "yes")]
    assert current_step(server, token) == "q_overall"

    final = transcript(server, token)
    assert final[: len(before)] == before
    assert [m["text"] for m in final if m["from"] == "victim"] == ["yes", "no", "yes"]
    assert_no_repeats(final)
    page = server.get(f"/s/{token}").text
    for question in (RESPECT, NEXT_STEPS, SUPPORT, OVERALL):
        assert page.count(question) == 1, question


def test_reply_stored_but_not_processed_before_a_crash_is_answered_at_start_up(server: Server) -> None:
    token = server.invite("after_attendance")
    assert server.get(f"/s/{token}").status == 200
    assert NEXT_STEPS in say(server, token, "yes", "answer-0001")[0]
    server.kill()

    # As if the process had committed the victim's reply (Conversation.receive) and died before
    # processing it (Conversation.process_pending).
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    stranded = server.execute(
        "INSERT INTO messages (direction, channel, address, provider_id, text, quick_replies, media, purpose, "
        "status, attempts, created_at, updated_at) "
        "VALUES ('in', 'web', ?, ?, 'no', '[]', '[]', 'reply', 'received', 0, ?, ?)",
        (f"web:{token}", f"{token[:12]}:stranded-0001", now, now))

    server.start()
    deadline = time.monotonic() + 10
    while server.query("SELECT status FROM messages WHERE id = ?", (stranded,)) != [("processed",)]:
        assert time.monotonic() < deadline, f"the stored reply was never processed:\n{server.log_tail()}"
        time.sleep(0.1)

    assert answers(server, token) == [("q_respect", "yes"), ("q_next_steps", "no")]
    assert current_step(server, token) == "q_support"
    messages = transcript(server, token)
    position = [m["id"] for m in messages].index(stranded)
    assert [(m["from"], m["text"][: len(SUPPORT)]) for m in messages[position:]] == [
        ("victim", "no"), ("police", SUPPORT)]
    assert_no_repeats(messages)

    # And the survey goes on from there.
    replies = say(server, token, "yes", "answer-0003")
    assert len(replies) == 1 and OVERALL in replies[0], replies
