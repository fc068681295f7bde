"""IMAP polling for the email channel: fetch unseen mail, hand each message on, mark it seen once it is committed.

For forces whose replies must stay in their own mailbox. The standard library's imaplib is blocking, so every
IMAP command runs in a worker thread (one connection per poll, used by one thread at a time) and the event
loop only waits. A message is fetched with ``BODY.PEEK[]`` (which leaves it unseen) and marked ``\\Seen``
only after the handler has committed it; if the handler raises, it stays unseen and is tried at the next poll.
Messages the handler could not match to a survey are also flagged (``\\Flagged``) for a person to read.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import re
import ssl
from collections.abc import Awaitable, Callable

from ..settings import Settings

log = logging.getLogger(__name__)

IMAP_TIMEOUT = 30.0
#: Messages handled per poll; the rest wait for the next one.
BATCH = 50
#: A message that fails this many polls in a row is flagged for a person instead of being tried for ever.
MAX_FAILURES = 5
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")

#: Takes the raw message; returns True when a person should look at it (it is flagged); raises to retry.
Handler = Callable[[bytes], Awaitable[bool]]


class ImapError(RuntimeError):
    """The IMAP server refused a command; the message names the command, never the mail."""


def _ok(typ: str, command: str) -> None:
    if typ != "OK":
        raise ImapError(f"IMAP {command} answered {typ}")


class ImapPoller:
    """Polls one folder every ``imap_poll_seconds``."""

    def __init__(self, settings: Settings, handle: Handler) -> None:
        self.settings = settings
        self.handle = handle
        self._failures: dict[str, int] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Every ``imap_poll_seconds`` (the first time one interval after start) until ``stop`` is set.

        A failed poll is logged by its error type and tried again at the next interval.
        """
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.imap_poll_seconds)
            if stop.is_set():
                break
            try:
                await self.poll_once()
            except Exception as exc:  # the server is down or refused us: try again at the next poll
                log.warning("email: IMAP poll failed (%s); will retry", type(exc).__name__)

    async def poll_once(self) -> int:
        """Handle the unseen messages of the folder once; returns how many were committed."""
        conn = await asyncio.to_thread(self._open)
        handled = 0
        try:
            uids = await asyncio.to_thread(self._unseen, conn)
            for uid in uids[:BATCH]:
                raw = await asyncio.to_thread(self._fetch, conn, uid)
                if raw is None:
                    log.warning("email: IMAP message %s is over %s bytes; flagged for a person", uid,
                                self.settings.smtp_listen_max_bytes)
                    await asyncio.to_thread(self._mark, conn, uid, True)
                    continue
                try:
                    needs_person = await self.handle(raw)
                except Exception as exc:  # not committed: leave it unseen so the next poll tries again
                    failures = self._failures[uid] = self._failures.get(uid, 0) + 1
                    give_up = failures >= MAX_FAILURES
                    log.error("email: IMAP message %s could not be stored (%s); %s", uid, type(exc).__name__,
                              "flagged for a person" if give_up else "left unseen")
                    if give_up:
                        self._failures.pop(uid, None)
                        await asyncio.to_thread(self._mark, conn, uid, True)
                    continue
                self._failures.pop(uid, None)
                await asyncio.to_thread(self._mark, conn, uid, needs_person)
                handled += 1
        finally:
            await asyncio.to_thread(self._close, conn)
        return handled

    # --- blocking imaplib calls, run in a worker thread ------------------------------------------------

    def _open(self) -> imaplib.IMAP4:
        settings = self.settings
        context = ssl.create_default_context()
        conn: imaplib.IMAP4
        if settings.imap_ssl:
            conn = imaplib.IMAP4_SSL(settings.imap_host, settings.imap_port, ssl_context=context,
                                     timeout=IMAP_TIMEOUT)
        else:
            conn = imaplib.IMAP4(settings.imap_host, settings.imap_port, timeout=IMAP_TIMEOUT)
            if "STARTTLS" in conn.capabilities:
                conn.starttls(context)
        try:
            login, _ = conn.login(settings.imap_username, settings.imap_password)
            _ok(login, "LOGIN")
            folder = settings.imap_folder.replace("\\", "\\\\").replace('"', '\\"')
            selected, _ = conn.select(f'"{folder}"')
            _ok(selected, "SELECT")
        except Exception:
            self._close(conn)
            raise
        return conn

    def _unseen(self, conn: imaplib.IMAP4) -> list[str]:
        typ, data = conn.uid("SEARCH", "UNSEEN")
        _ok(typ, "SEARCH")
        first = data[0] if data else b""
        return first.decode("ascii").split() if isinstance(first, bytes) else []

    def _fetch(self, conn: imaplib.IMAP4, uid: str) -> bytes | None:
        """The message's bytes (leaving it unseen), or None when it is larger than we take."""
        typ, data = conn.uid("FETCH", uid, "(RFC822.SIZE)")
        _ok(typ, "FETCH")
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            match = _SIZE.search(line) if isinstance(line, bytes) else None
            if match and int(match.group(1)) > self.settings.smtp_listen_max_bytes:
                return None
        typ, data = conn.uid("FETCH", uid, "(BODY.PEEK[])")
        _ok(typ, "FETCH")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        raise ImapError("IMAP FETCH returned no message body")

    def _mark(self, conn: imaplib.IMAP4, uid: str, needs_person: bool) -> None:
        flags = r"(\Seen \Flagged)" if needs_person else r"(\Seen)"
        typ, _ = conn.uid("STORE", uid, "+FLAGS.SILENT", flags)
        _ok(typ, "STORE")

    def _close(self, conn: imaplib.IMAP4) -> None:
        if conn.state == "SELECTED":
            with contextlib.suppress(Exception):
                conn.close()
        try:
            conn.logout()
        except Exception:  # the connection is already broken: just release the socket
            with contextlib.suppress(Exception):
                conn.shutdown()
