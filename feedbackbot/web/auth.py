"""Staff sign-in for pages: who is signed in, role checks, CSRF on every staff form, audit and page rendering.

The names here are a contract other modules use: ``current_user``, ``require_role``, ``audit``,
``render_staff`` and the template ``staff/base.html`` (blocks ``title`` and ``content``).
"""

from __future__ import annotations

import functools
import hmac
import inspect
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import quote, urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

from ..accounts import Accounts, ActiveSession, StaffUser
from ..accounts.audit import add_entry
from ..settings import Settings
from .render import Pages

log = logging.getLogger(__name__)

SESSION_COOKIE = "feedbackbot_staff"
LOGIN_CSRF_COOKIE = "feedbackbot_login_csrf"
#: Paths of staff pages: sessions are read, POSTs need a CSRF token, and nothing is cached.
STAFF_PREFIXES = ("/login", "/logout", "/inbox", "/admin", "/board")


@dataclass
class Staff:
    """What the staff pages share: accounts, page rendering and settings."""

    accounts: Accounts
    pages: Pages
    settings: Settings

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry ``Secure`` when the public address is https."""
        return self.settings.public_url.lower().startswith("https://")


STAFF = web.AppKey("staff", Staff)
_SESSION = web.RequestKey("staff_session", ActiveSession)


def is_staff_path(path: str) -> bool:
    """Whether a path is one of the staff pages."""
    return any(path == p or path.startswith(p + "/") for p in STAFF_PREFIXES)


def current_user(request: web.Request) -> StaffUser | None:
    """The signed-in member of staff, or None."""
    active = request.get(_SESSION)
    return active.user if active is not None else None


def csrf_token(request: web.Request) -> str:
    """The CSRF token the signed-in session's forms carry (empty when nobody is signed in)."""
    active = request.get(_SESSION)
    return active.csrf_token if active is not None else ""


def client_address(request: web.Request) -> str | None:
    """The peer address (a proxy in front should be the only peer; forwarded headers are not trusted)."""
    remote = request.remote
    return remote[:64] if remote else None


def login_url(request: web.Request) -> str:
    """/login with this page as where to come back to."""
    return "/login?next=" + quote(request.path_qs, safe="")


def safe_next(target: str | None) -> str | None:
    """A local path to return to after sign-in, or None (no other hosts, no scheme-relative URLs)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def home_for(user: StaffUser) -> str:
    """Where a role lands after signing in."""
    return "/board" if user.role == "board" else "/inbox"


def nav_for(user: StaffUser | None, path: str) -> list[dict[str, Any]]:
    """The header's links for a role: Inbox, Board and Admin as the role allows."""
    if user is None:
        return []
    links: list[tuple[str, str]] = []
    if user.role in ("admin", "supervisor", "officer"):
        links.append(("/inbox", "Inbox"))
    if user.role in ("admin", "supervisor", "board"):
        links.append(("/board", "Board"))
    if user.role == "admin":
        links.extend([("/admin/users", "Users"), ("/admin/audit", "Audit log"), ("/admin/outbox", "Outbox")])
    return [{"href": href, "label": label, "current": path == href or path.startswith(href + "/")}
            for href, label in links]


def render_staff(request: web.Request, template: str, context: Mapping[str, Any], *,
                 status: int = 200) -> web.Response:
    """Render a staff page (extending ``staff/base.html``) with the user, nav and CSRF token; never cached."""
    staff = request.app[STAFF]
    user = current_user(request)
    full = {"user": user, "nav": nav_for(user, request.path), "csrf_token": csrf_token(request), **context}
    return staff.pages.render(request, template, full, status=status, no_store=True)


async def audit(request: web.Request, action: str, *, object_type: str | None = None,
                object_id: str | int | None = None, outcome: str = "ok",
                detail: dict[str, Any] | None = None) -> None:
    """Write one audit entry, in its own transaction, for the signed-in user (or nobody)."""
    staff = request.app[STAFF]
    async with staff.accounts.db.session() as s:
        add_entry(s, at=staff.accounts.clock.now(), user=current_user(request), action=action,
                  object_type=object_type, object_id=object_id, outcome=outcome,
                  client_address=client_address(request), detail=detail)


def forbidden_page(request: web.Request) -> web.Response:
    """The 403 page for a signed-in user whose role may not see a page."""
    return render_staff(request, "staff/forbidden.html", {}, status=403)


H = TypeVar("H", bound=Callable[..., Awaitable[web.StreamResponse]])


def require_role(*roles: str) -> Callable[[H], H]:
    """Decorate a handler (function or method): not signed in → /login?next=…; another role → 403 page."""
    allowed = frozenset(roles)

    def decorate(handler: H) -> H:
        @functools.wraps(handler)
        async def wrapper(*args: Any, **kwargs: Any) -> web.StreamResponse:
            request = next(a for a in reversed(args) if isinstance(a, web.Request))
            user = current_user(request)
            if user is None:
                raise web.HTTPSeeOther(login_url(request))
            if allowed and user.role not in allowed:
                await audit(request, "page.view", object_type="page", object_id=request.path[:64],
                            outcome="denied")
                return forbidden_page(request)
            return await handler(*args, **kwargs)

        wrapper.__signature__ = inspect.signature(handler)  # type: ignore[attr-defined]
        return cast(H, wrapper)

    return decorate


async def _csrf_ok(request: web.Request, active: ActiveSession | None) -> bool:
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return False
    form = await request.post()
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not sent:
        return False
    if request.path == "/login":
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    elif active is not None:
        expected = active.csrf_token
    else:
        return False
    return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())


def new_login_csrf() -> str:
    """A fresh token for the sign-in form (double-submitted: cookie and hidden field)."""
    return secrets.token_urlsafe(32)


def staff_middleware(staff: Staff) -> Middleware:
    """Read the session cookie on staff paths, refuse POSTs without a valid CSRF token, and never cache."""

    @web.middleware
    async def middleware(request: web.Request,
                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        if not is_staff_path(request.path):
            return await handler(request)
        token = request.cookies.get(SESSION_COOKIE, "")
        active = await staff.accounts.sessions.find(token) if token else None
        if active is not None:
            request[_SESSION] = active
        if request.method not in ("GET", "HEAD", "OPTIONS") and not await _csrf_ok(request, active):
            if active is None and request.path != "/login":
                raise web.HTTPSeeOther(login_url(request) if request.method == "GET" else "/login")
            await audit(request, "csrf", object_type="page", object_id=request.path[:64], outcome="denied")
            raise web.HTTPForbidden(text="This form has expired or did not come from this site. "
                                         "Go back, reload the page and try again.")
        response = await handler(request)
        response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("Pragma", "no-cache")
        if token and active is None and request.path != "/logout":
            response.del_cookie(SESSION_COOKIE, path="/")
        return response

    return middleware


def set_session_cookie(response: web.StreamResponse, staff: Staff, token: str) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, Secure on https, for the whole site."""
    response.set_cookie(SESSION_COOKIE, token, path="/", httponly=True, samesite="Strict",
                        secure=staff.secure_cookies)
