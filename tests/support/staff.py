"""Staff users and a signed-in browser-like client for the accounts and inbox tests."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher, Type

from feedbackbot.accounts import Accounts, NewUser, StaffUser
from feedbackbot.web.auth import STAFF

PASSWORD = "correct horse battery staple"
#: Real Argon2id with small parameters, so a test signs in in milliseconds rather than a second.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def fast_passwords(app: web.Application) -> Accounts:
    """The app's accounts, hashing with the small test parameters."""
    accounts = app[STAFF].accounts
    accounts.passwords.hasher = FAST_HASHER
    return accounts


async def add_user(accounts: Accounts, username: str, role: str, *, officer_ref: str | None = None,
                   supervisor_ref: str | None = None, teams: tuple[str, ...] = (),
                   email: str | None = None, password: str = PASSWORD) -> StaffUser:
    """Create a user the way an administrator would."""
    return await accounts.users.create(NewUser(username=username, role=role, display_name=username.title(),
                                               email=email, officer_ref=officer_ref, supervisor_ref=supervisor_ref,
                                               teams=teams), password)


def csrf_from(html: str) -> str:
    """The CSRF token in a page's forms (on the sign-in page, the sign-in form's own)."""
    start = html.find('action="/login"')
    found = _CSRF.search(html, start if start >= 0 else 0)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@dataclass
class Browser:
    """One person's browser: its own cookies (the test client's jar is a dummy), on a shared test client."""

    client: TestClient[Any, Any]
    csrf: str = ""
    cookies: dict[str, str] = field(default_factory=dict)
    last_headers: dict[str, str] = field(default_factory=dict)

    def _keep(self, resp: ClientResponse) -> None:
        self.last_headers = dict(resp.headers)
        for name, morsel in resp.cookies.items():
            if morsel.value and morsel["max-age"] != "0":
                self.cookies[name] = morsel.value
            else:
                self.cookies.pop(name, None)

    def _cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    async def get(self, path: str) -> tuple[int, str]:
        """GET a page without following redirects; status and body."""
        async with self.client.get(path, allow_redirects=False, headers=self._cookie_header()) as resp:
            self._keep(resp)
            return resp.status, await resp.text()

    async def post(self, path: str, data: dict[str, str], *, csrf: bool = True) -> tuple[int, str, str]:
        """POST a form (with the session's CSRF token unless told not to); status, body and Location."""
        form = {**data, "csrf_token": self.csrf} if csrf else dict(data)
        async with self.client.post(path, data=form, allow_redirects=False, headers=self._cookie_header()) as resp:
            self._keep(resp)
            return resp.status, await resp.text(), resp.headers.get("Location", "")


async def sign_in(client: TestClient[Any, Any], username: str, password: str = PASSWORD) -> Browser:
    """Open /login, post the form, and keep the session cookie; fails the test if sign-in is refused."""
    browser = Browser(client)
    status, html = await browser.get("/login")
    assert status == 200
    browser.csrf = csrf_from(html)
    status, _body, location = await browser.post("/login", {"username": username, "password": password})
    assert status == 303, f"sign-in refused for {username}: {status}"
    status, html = await browser.get(location if location.startswith("/") else "/inbox")
    found = _CSRF.search(html)
    browser.csrf = found.group(1) if found else ""
    return browser
