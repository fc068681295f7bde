"""Signing in and out as staff do: cookies, one vague message, throttling, rotation, idle and 12 h expiry, CSRF."""

from __future__ import annotations

from typing import Any

from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient

from feedbackbot.accounts import SIGN_IN_REFUSED, Accounts
from feedbackbot.app import build_services, create_app
from feedbackbot.nlp import KeywordClassifier
from feedbackbot.settings import Settings
from feedbackbot.web.auth import SESSION_COOKIE
from tests.support.clock import ManualClock
from tests.support.staff import PASSWORD, Browser, add_user, csrf_from, fast_passwords, sign_in
from tests.support.workitems import rows


async def _try(client: TestClient[Any, Any], username: str, password: str) -> tuple[int, str, Browser]:
    browser = Browser(client)
    _, page = await browser.get("/login")
    browser.csrf = csrf_from(page)
    status, body, _ = await browser.post("/login", {"username": username, "password": password})
    return status, body, browser


async def test_sign_in_sets_a_strict_http_only_cookie_and_stores_only_its_hash(
        staff_client: TestClient[Any, Any], accounts: Accounts) -> None:
    await add_user(accounts, "cora", "officer", officer_ref="PC200")
    browser = Browser(staff_client)
    _, page = await browser.get("/login?next=/inbox%3Fstate%3Dall")
    browser.csrf = csrf_from(page)
    async with staff_client.post("/login", data={"username": "Cora", "password": PASSWORD, "next": "/inbox?state=all",
                                                 "csrf_token": browser.csrf},
                                 headers={"Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items())},
                                 allow_redirects=False) as resp:
        assert resp.status == 303 and resp.headers["Location"] == "/inbox?state=all"
        cookie = resp.cookies[SESSION_COOKIE]
        header = next(h for h in resp.headers.getall("Set-Cookie") if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Path=/" in header
    assert "Secure" not in header, "plain http in this test; https public URLs get Secure (next test)"
    assert len(cookie.value) >= 43, "256 random bits"
    stored = await rows(accounts.db, "SELECT token_hash FROM user_sessions")
    assert len(stored) == 1 and stored[0][0] != cookie.value and len(stored[0][0]) == 64
    assert await rows(accounts.db, "SELECT action, outcome, username FROM audit_log") == [("login", "ok", "cora")]


async def test_cookie_is_secure_when_the_public_address_is_https(aiohttp_client: Any, settings: Settings,
                                                                 clock: ManualClock) -> None:
    https = settings.replace(public_url="https://feedback.police.example")
    app = create_app(https, services=build_services(https, clock, classifier=KeywordClassifier))
    accounts = fast_passwords(app)
    client = await aiohttp_client(app, cookie_jar=DummyCookieJar())
    await add_user(accounts, "cora", "officer", officer_ref="PC200")
    browser = Browser(client)
    _, page = await browser.get("/login")
    login_cookie = browser.last_headers["Set-Cookie"]
    assert "Secure" in login_cookie
    browser.csrf = csrf_from(page)
    async with client.post("/login", data={"username": "cora", "password": PASSWORD, "csrf_token": browser.csrf},
                           headers={"Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items())},
                           allow_redirects=False) as resp:
        header = next(h for h in resp.headers.getall("Set-Cookie") if h.startswith(SESSION_COOKIE))
    assert "Secure" in header and "HttpOnly" in header


async def test_every_refusal_gets_the_same_vague_message(staff_client: TestClient[Any, Any],
                                                         accounts: Accounts) -> None:
    await add_user(accounts, "cora", "officer", officer_ref="PC200")
    await add_user(accounts, "gone", "officer", officer_ref="PC201")
    await accounts.users.disable("gone")
    bodies = []
    for username, password in (("cora", "wrong password here"), ("nobody", PASSWORD), ("gone", PASSWORD),
                               ("", "")):
        status, body, _ = await _try(staff_client, username, password)
        assert status == 401, username
        assert SIGN_IN_REFUSED.replace("'", "&#39;") in body
        bodies.append(body.replace(f'value="{username}"', 'value=""'))
    audit = await rows(accounts.db, "SELECT action, outcome, username FROM audit_log ORDER BY id")
    assert audit[:3] == [("login", "failed", "cora"), ("login", "failed", None), ("login", "failed", "gone")]


async def test_throttling_by_username_locks_even_the_right_password_then_unlocks(
        staff_client: TestClient[Any, Any], accounts: Accounts, clock: ManualClock) -> None:
    await add_user(accounts, "cora", "officer", officer_ref="PC200")
    for _ in range(5):  # FEEDBACKBOT_LOGIN_MAX_FAILURES
        assert (await _try(staff_client, "cora", "guess guess guess"))[0] == 401
    status, body, _ = await _try(staff_client, "cora", PASSWORD)
    assert status == 401, "locked: the right password does not get in"
    assert SIGN_IN_REFUSED.replace("'", "&#39;") in body
    row = await accounts.users.get("cora")
    assert row is not None and row.locked_until is not None
    clock.advance(minutes=16)  # FEEDBACKBOT_LOGIN_LOCKOUT_MINUTES is 15
    assert (await _try(staff_client, "cora", PASSWORD))[0] == 303
    row = await accounts.users.get("cora")
    assert row is not None and row.locked_until is None and row.failed_logins == 0
    attempts = await rows(accounts.db, "SELECT count(*) FROM login_attempts WHERE username = 'cora'")
    assert attempts == [(7,)]


async def test_throttling_by_client_address_across_usernames(staff_client: TestClient[Any, Any],
                                                             accounts: Accounts) -> None:
    await add_user(accounts, "cora", "officer", officer_ref="PC200")
    for i in range(20):  # FEEDBACKBOT_LOGIN_MAX_FAILURES_PER_ADDRESS
        assert (await _try(staff_client, f"someone{i}", "password spraying"))[0] == 401
    assert (await _try(staff_client, "cora", PASSWORD))[0] == 401, "this address is paused"


async def test_each_sign_in_is_a_new_session_and_sign_out_ends_it(staff_client: TestClient[Any, Any],
                                                                  accounts: Accounts) -> None:
    await add_user(accounts, "cora", "officer", officer_ref="PC200")
    first = await sign_in(staff_client, "cora")
    old_cookie = first.cookies[SESSION_COOKIE]
    # Signing in again from the same browser: a new session id, and the old one ends.
    _, page = await first.get("/login")
    first.csrf = csrf_from(page)
    assert (await first.post("/login", {"username": "cora", "password": PASSWORD}))[0] == 303
    assert first.cookies[SESSION_COOKIE] != old_cookie
    stale = Browser(staff_client, cookies={SESSION_COOKIE: old_cookie})
    assert (await stale.get("/inbox"))[0] == 303, "the old session no longer works"
    assert (await first.get("/inbox"))[0] == 200
    _, page = await first.get("/inbox")
    first.csrf = csrf_from(page)
    kept = first.cookies[SESSION_COOKIE]
    status, _, location = await first.post("/logout", {})
    assert status == 303 and location.startswith("/login")
    assert SESSION_COOKIE not in first.cookies
    again = Browser(staff_client, cookies={SESSION_COOKIE: kept})
    assert (await again.get("/inbox"))[0] == 303, "a signed-out session cannot be replayed"
    ended = await rows(accounts.db, "SELECT ended_reason FROM user_sessions ORDER BY id")
    assert ended == [("replaced",), ("logout",)]


async def test_idle_sessions_end(staff_client: TestClient[Any, Any], accounts: Accounts,
                                 clock: ManualClock) -> None:
    await add_user(accounts, "cora", "officer", officer_ref="PC200")
    cora = await sign_in(staff_client, "cora")
    clock.advance(minutes=29)
    assert (await cora.get("/inbox"))[0] == 200, "29 minutes idle is still signed in"
    clock.advance(minutes=29)
    assert (await cora.get("/inbox"))[0] == 200, "activity kept it alive"
    clock.advance(minutes=31)
    status, _ = await cora.get("/inbox")
    assert status == 303 and cora.last_headers["Location"] == "/login?next=/inbox"
    assert await rows(accounts.db, "SELECT ended_reason FROM user_sessions") == [("idle",)]


async def test_sessions_end_after_twelve_hours_however_busy(staff_client: TestClient[Any, Any], accounts: Accounts,
                                                             clock: ManualClock) -> None:
    await add_user(accounts, "cora", "officer", officer_ref="PC200")
    cora = await sign_in(staff_client, "cora")
    for _ in range(47):  # a page every 15 minutes for 11 h 45 min: never idle
        clock.advance(minutes=15)
        assert (await cora.get("/inbox"))[0] == 200
    clock.advance(minutes=14)
    assert (await cora.get("/inbox"))[0] == 200, "11 h 59 min after signing in is still signed in"
    clock.advance(minutes=1)
    status, _ = await cora.get("/inbox")
    assert status == 303 and cora.last_headers["Location"] == "/login?next=/inbox"
    assert await rows(accounts.db, "SELECT ended_reason FROM user_sessions") == [("expired",)]
    again = await sign_in(staff_client, "cora")
    assert (await again.get("/inbox"))[0] == 200, "signing in again starts a new twelve hours"


async def test_disabling_or_a_new_password_ends_sessions(staff_client: TestClient[Any, Any],
                                                         accounts: Accounts) -> None:
    await add_user(accounts, "cora", "officer", officer_ref="PC200")
    await add_user(accounts, "olly", "officer", officer_ref="PC100")
    cora = await sign_in(staff_client, "cora")
    olly = await sign_in(staff_client, "olly")
    await accounts.users.disable("cora")
    await accounts.users.set_password("olly", "a brand new long password")
    assert (await cora.get("/inbox"))[0] == 303
    assert (await olly.get("/inbox"))[0] == 303
    assert (await _try(staff_client, "olly", PASSWORD))[0] == 401
    assert (await _try(staff_client, "olly", "a brand new long password"))[0] == 303


async def test_forms_without_a_valid_csrf_token_are_refused(staff_client: TestClient[Any, Any],
                                                            accounts: Accounts) -> None:
    await add_user(accounts, "ada", "admin")
    ada = await sign_in(staff_client, "ada")
    form = {"username": "mallory", "role": "admin", "display_name": "Mallory", "password": "x" * 20}
    status, _, _ = await ada.post("/admin/users", form, csrf=False)
    assert status == 403
    status, _, _ = await ada.post("/admin/users", {**form, "csrf_token": "forged"}, csrf=False)
    assert status == 403
    assert await accounts.users.get("mallory") is None
    assert (await ada.post("/logout", {}, csrf=False))[0] == 403, "even sign-out needs the token"
    # The sign-in form has its own token, tied to a cookie.
    login = Browser(staff_client)
    status, _, _ = await login.post("/login", {"username": "ada", "password": PASSWORD, "csrf_token": "guess"},
                                    csrf=False)
    assert status == 403
    refused = await rows(accounts.db, "SELECT count(*) FROM audit_log WHERE action = 'csrf' AND outcome = 'denied'")
    assert refused == [(4,)]
    status, _, _ = await ada.post("/admin/users", form)
    assert status == 303 and await accounts.users.get("mallory") is not None
