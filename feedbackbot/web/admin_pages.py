"""Administrator pages: users (add, disable, reset password), the audit log search, and failed sends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlmodel import col, select

from ..accounts import ROLES, NewUser, PasswordPolicyError, UserError
from ..accounts.audit import AuditQuery, search
from ..store.tables import Message
from .auth import STAFF, audit, render_staff, require_role

AUDIT_PAGE = 50
OUTBOX_STATUSES = ("failed", "unknown")


def _date(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=UTC)
    except ValueError:
        return None


class AdminPages:
    """/admin/users…, /admin/audit and /admin/outbox (admin role only)."""

    def __init__(self, retry: Callable[[int], Awaitable[bool]]) -> None:
        self.retry = retry

    def routes(self) -> list[web.RouteDef]:
        """The routes."""
        return [web.get("/admin", self.home), web.get("/admin/users", self.users),
                web.post("/admin/users", self.add_user),
                web.post("/admin/users/{username}/disable", self.disable),
                web.post("/admin/users/{username}/password", self.set_password),
                web.get("/admin/audit", self.audit_log),
                web.get("/admin/outbox", self.outbox), web.post(r"/admin/outbox/{id:\d+}/retry", self.retry_send)]

    @require_role("admin")
    async def home(self, request: web.Request) -> web.StreamResponse:
        """The admin area starts at the users page."""
        raise web.HTTPSeeOther("/admin/users")

    async def _users_page(self, request: web.Request, *, message: str | None = None, error: str | None = None,
                          kept: dict[str, str] | None = None, status: int = 200) -> web.Response:
        rows = await request.app[STAFF].accounts.users.all()
        return render_staff(request, "admin/users.html", {"rows": rows, "roles": ROLES, "message": message,
                                                          "error": error, "kept": kept or {}}, status=status)

    @require_role("admin")
    async def users(self, request: web.Request) -> web.StreamResponse:
        """Every user, with forms to add, disable and reset passwords."""
        done = request.query.get("done")
        return await self._users_page(request, message=done if done in _DONE.values() else None)

    @require_role("admin")
    async def add_user(self, request: web.Request) -> web.StreamResponse:
        """Add a user from the form."""
        form = await request.post()
        fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        new = NewUser(username=fields.get("username", ""), role=fields.get("role", ""),
                      display_name=fields.get("display_name", ""), email=fields.get("email") or None,
                      officer_ref=fields.get("officer_ref") or None,
                      supervisor_ref=fields.get("supervisor_ref") or None,
                      teams=tuple(t for t in fields.get("teams", "").split(",")))
        try:
            user = await request.app[STAFF].accounts.users.create(new, fields.get("password", ""))
        except (UserError, PasswordPolicyError) as exc:
            kept = {k: v for k, v in fields.items() if k not in ("password", "csrf_token")}
            return await self._users_page(request, error=str(exc), kept=kept, status=400)
        await audit(request, "user.add", object_type="user", object_id=user.username, detail={"role": user.role})
        raise web.HTTPSeeOther("/admin/users?done=" + _DONE["add"])

    @require_role("admin")
    async def disable(self, request: web.Request) -> web.StreamResponse:
        """Disable a user (their sessions end)."""
        username = request.match_info["username"]
        try:
            await request.app[STAFF].accounts.users.disable(username)
        except UserError as exc:
            return await self._users_page(request, error=str(exc), status=404)
        await audit(request, "user.disable", object_type="user", object_id=username)
        raise web.HTTPSeeOther("/admin/users?done=" + _DONE["disable"])

    @require_role("admin")
    async def set_password(self, request: web.Request) -> web.StreamResponse:
        """Reset a user's password (their sessions end, any lock is cleared)."""
        username = request.match_info["username"]
        form = await request.post()
        try:
            await request.app[STAFF].accounts.users.set_password(username, str(form.get("password") or ""))
        except (UserError, PasswordPolicyError) as exc:
            return await self._users_page(request, error=f"{username}: {exc}", status=400)
        await audit(request, "user.set_password", object_type="user", object_id=username)
        raise web.HTTPSeeOther("/admin/users?done=" + _DONE["password"])

    @require_role("admin")
    async def audit_log(self, request: web.Request) -> web.StreamResponse:
        """Search the audit log by user, action, object, outcome and dates; newest first, paginated."""
        q = request.query
        until = _date(q.get("until"))
        query = AuditQuery(username=q.get("username") or None, action=q.get("action") or None,
                           object_type=q.get("object_type") or None, object_id=q.get("object_id") or None,
                           outcome=q.get("outcome") or None, since=_date(q.get("since")),
                           until=until + timedelta(days=1) if until else None)
        try:
            page = max(1, int(q.get("page") or 1))
        except ValueError:
            page = 1
        rows, total = await search(request.app[STAFF].accounts.db, query, limit=AUDIT_PAGE,
                                   offset=(page - 1) * AUDIT_PAGE)
        await audit(request, "audit.search", object_type="audit_log", detail={"page": page})
        pages = max(1, -(-total // AUDIT_PAGE))
        base = {k: v for k, v in q.items() if k != "page" and v}
        from urllib.parse import urlencode

        def link(n: int) -> str:
            return "/admin/audit?" + urlencode({**base, "page": n})

        return render_staff(request, "admin/audit.html", {"rows": rows, "total": total, "page": page,
                                                          "pages": pages, "q": q, "link": link})

    @require_role("admin")
    async def outbox(self, request: web.Request) -> web.StreamResponse:
        """Sends that failed for good or are held, with their reasons (never the text or the address)."""
        async with request.app[STAFF].accounts.db.session() as s:
            rows = (await s.exec(select(Message).where(
                Message.direction == "out", col(Message.status).in_(OUTBOX_STATUSES),
            ).order_by(col(Message.id).desc()).limit(200))).all()
        done = request.query.get("retried")
        return render_staff(request, "admin/outbox.html", {"rows": rows, "retried": done if done and
                                                           done.isdigit() else None})

    @require_role("admin")
    async def retry_send(self, request: web.Request) -> web.StreamResponse:
        """Queue one failed or held send again."""
        message_id = int(request.match_info["id"])
        ok = await self.retry(message_id)
        await audit(request, "outbox.retry", object_type="message", object_id=message_id,
                    outcome="ok" if ok else "refused")
        if not ok:
            raise web.HTTPNotFound(text="That message is not a failed or held send.")
        raise web.HTTPSeeOther(f"/admin/outbox?retried={message_id}")


_DONE: dict[str, Any] = {"add": "User added.", "disable": "User disabled; their sessions have ended.",
                         "password": "Password set; their sessions have ended."}
