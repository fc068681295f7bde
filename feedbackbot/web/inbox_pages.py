"""The officer inbox: my items and my teams' queues, one item with its reply and history, and the actions."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from multidict import MultiMapping

from ..clock import Clock
from ..nlp.taxonomy import load_taxonomy
from ..workitems.actions import ActionRefused, Actor, Conflict, ItemNotFound, WorkItemActions
from ..workitems.detail import ItemView, load_item
from ..workitems.queries import ALL_STATES, PRIORITIES, InboxFilter, inbox_page
from ..workitems.reply_templates import ReplyTemplate
from .auth import STAFF, audit, client_address, current_user, render_staff, require_role

CASEWORK = ("admin", "supervisor", "officer")
EXPORT_LIMIT = 5000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ACTIONS = ("acknowledge", "start", "note", "reassign", "reply", "resolve", "correct")


def csv_safe(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text: a leading =, +, -, @, tab or CR gets a ' in front."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _int(raw: str | None, default: int) -> int:
    try:
        return max(1, int(raw or default))
    except ValueError:
        return default


def _filter_from(query: MultiMapping[str]) -> InboxFilter:
    state = query.get("state") or "open"
    priority = query.get("priority") or None
    return InboxFilter(
        state=state if state in (*ALL_STATES, "open", "all") else "open",
        queue=(query.get("queue") or None),
        priority=priority if priority in PRIORITIES else None,
        overdue=query.get("overdue") == "1",
        touchpoint=(query.get("touchpoint") or None),
        page=_int(query.get("page"), 1),
    )


class InboxPages:
    """GET /inbox, GET /inbox/export.csv, GET /inbox/items/{id} and POST /inbox/items/{id}/{action}."""

    def __init__(self, actions: WorkItemActions, clock: Clock, timezone: str,
                 templates: Any, queue_names: Any) -> None:
        self.actions = actions
        self.clock = clock
        self.zone = ZoneInfo(timezone)
        self._templates = templates
        self._queue_names = queue_names

    def routes(self) -> list[web.RouteDef]:
        """The routes."""
        return [web.get("/inbox", self.inbox), web.get("/inbox/export.csv", self.export),
                web.get(r"/inbox/items/{id:\d+}", self.item),
                web.post(r"/inbox/items/{id:\d+}/{action}", self.act)]

    def local(self, when: datetime | None) -> str:
        """A time in the force's zone, as officers read it."""
        return when.astimezone(self.zone).strftime("%a %d %b %Y %H:%M") if when is not None else ""

    def _names(self) -> Mapping[str, str]:
        names: Mapping[str, str] = self._queue_names()
        return names

    def target_label(self, kind: str, ref: str) -> str:
        """A queue's name, or "Officer <ref>"."""
        if kind == "queue":
            return self._names().get(ref, ref)
        return f"Officer {ref}"

    @require_role(*CASEWORK)
    async def inbox(self, request: web.Request) -> web.StreamResponse:
        """My items and my teams' queues, filtered and paginated."""
        user = current_user(request)
        assert user is not None
        wanted = _filter_from(request.query)
        now = self.clock.now()
        page = await inbox_page(request.app[STAFF].accounts.db, user, wanted, now)
        await audit(request, "inbox.view", object_type="inbox",
                    detail={"page": page.page, "items": [r.id for r in page.rows]})
        return render_staff(request, "inbox/list.html", {
            "page": page, "filter": wanted, "now": now, "local": self.local, "target_label": self.target_label,
            "states": ALL_STATES, "priorities": PRIORITIES, "query_for": _query_for(request),
            "touchpoints": sorted({r.touchpoint for r in page.rows if r.touchpoint} | (
                {wanted.touchpoint} if wanted.touchpoint else set())),
        })

    @require_role(*CASEWORK)
    async def export(self, request: web.Request) -> web.StreamResponse:
        """The filtered inbox as CSV (formula characters made harmless)."""
        user = current_user(request)
        assert user is not None
        wanted = _filter_from(request.query)
        now = self.clock.now()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["id", "status", "priority", "target", "due", "overdue", "touchpoint", "case", "risk",
                         "themes", "reply"])
        exported: list[int] = []
        page_no = 1
        while len(exported) < EXPORT_LIMIT:
            page = await inbox_page(request.app[STAFF].accounts.db, user,
                                    InboxFilter(**{**wanted.__dict__, "page": page_no}), now)
            for r in page.rows:
                writer.writerow([csv_safe(v) for v in (
                    r.id, r.status, r.priority, self.target_label(r.target_kind, r.target_ref), self.local(r.due_at),
                    "overdue" if r.overdue else "", r.touchpoint, r.case_reference, r.risk, " ".join(r.themes),
                    r.excerpt)])
                exported.append(r.id)
            if page_no >= page.pages:
                break
            page_no += 1
        await audit(request, "inbox.export", object_type="inbox", detail={"count": len(exported)})
        return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": 'attachment; filename="inbox.csv"'})

    async def _view_or_404(self, request: web.Request, item_id: int) -> ItemView:
        user = current_user(request)
        assert user is not None
        view = await load_item(request.app[STAFF].accounts.db, user, item_id)
        if view is None:
            await audit(request, "work_item.view", object_type="work_item", object_id=item_id, outcome="denied")
            raise web.HTTPNotFound(text="There is no item with that number that you can open.")
        return view

    @require_role(*CASEWORK)
    async def item(self, request: web.Request) -> web.StreamResponse:
        """One item: the reply, tags and cues, case context, the conversation, the history and the forms."""
        item_id = int(request.match_info["id"])
        view = await self._view_or_404(request, item_id)
        await audit(request, "work_item.view", object_type="work_item", object_id=item_id)
        return self._item_page(request, view, message=_done_message(request.query.get("done")))

    def _item_page(self, request: web.Request, view: ItemView, *, message: str | None = None,
                   error: str | None = None, error_action: str | None = None,
                   kept: Mapping[str, str] | None = None, status: int = 200) -> web.Response:
        templates: Mapping[str, ReplyTemplate] = self._templates()
        language = view.contact.language if view.contact is not None else "en"
        from ..conversation import case_context

        user = current_user(request)
        context = {**case_context(view.case, request.app[STAFF].settings),
                   "officer_name": user.display_name if user else ""}
        previews = [(t.id, t.name, t.render(language, context)) for t in templates.values()]
        return render_staff(request, "inbox/item.html", {
            "view": view, "item": view.item, "now": self.clock.now(), "local": self.local,
            "target_label": self.target_label, "overdue": _overdue(view, self.clock.now()),
            "replies": previews, "taxonomy": load_taxonomy(), "queues": sorted(self._names().items()),
            "message": message, "error": error, "error_action": error_action, "kept": kept or {},
        }, status=status)

    @require_role(*CASEWORK)
    async def act(self, request: web.Request) -> web.StreamResponse:
        """Carry out one action; back to the item, or the item again with a clear message."""
        item_id = int(request.match_info["id"])
        action = request.match_info["action"]
        if action not in ACTIONS:
            raise web.HTTPNotFound()
        user = current_user(request)
        assert user is not None
        form = await request.post()
        fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        actor = Actor(user, client_address(request))
        raw_version = fields.get("version", "")
        version = int(raw_version) if raw_version.isdigit() and len(raw_version) < 10 else -1
        try:
            if action == "acknowledge":
                await self.actions.acknowledge(actor, item_id, version)
            elif action == "start":
                await self.actions.start(actor, item_id, version)
            elif action == "note":
                await self.actions.note(actor, item_id, fields.get("note", ""))
            elif action == "reassign":
                await self.actions.reassign(actor, item_id, version, _target(fields), fields.get("reason", ""))
            elif action == "reply":
                await self.actions.reply(actor, item_id, version, fields.get("template", ""))
            elif action == "resolve":
                await self.actions.resolve(actor, item_id, version, fields.get("outcome", ""))
            else:
                after = {"risk": fields.get("risk"), "sentiment": fields.get("sentiment"),
                         **{k: [str(v) for v in form.getall(k, []) if isinstance(v, str)]
                            for k in ("themes", "requests", "risk_categories")}}
                await self.actions.correct(actor, item_id, version, after, fields.get("note", ""))
        except ItemNotFound:
            await audit(request, f"work_item.{action}", object_type="work_item", object_id=item_id,
                        outcome="denied")
            raise web.HTTPNotFound(text="There is no item with that number that you can open.") from None
        except (ActionRefused, Conflict) as exc:
            conflict = isinstance(exc, Conflict)
            await audit(request, f"work_item.{action}", object_type="work_item", object_id=item_id,
                        outcome="conflict" if conflict else "refused")
            view = await self._view_or_404(request, item_id)
            return self._item_page(request, view, error=str(exc), error_action=action, kept=fields,
                                   status=409 if conflict else 400)
        raise web.HTTPSeeOther(f"/inbox/items/{item_id}?done={action}")


def _target(fields: Mapping[str, str]) -> str:
    queue, officer = fields.get("target_queue", "").strip(), fields.get("target_officer", "").strip()
    if queue and officer:
        raise ActionRefused("Choose either a queue or an officer, not both.")
    if queue:
        return f"queue:{queue}"
    if officer:
        return f"officer:{officer}"
    raise ActionRefused("Choose a queue or type an officer's reference to pass this item to.")


_DONE = {"acknowledge": "You acknowledged this item.", "start": "You started work on this item.",
         "note": "Your note was added.", "reassign": "The item was passed on.",
         "reply": "Your reply was queued to the victim.", "resolve": "The item was resolved.",
         "correct": "The corrected tags were saved."}


def _done_message(action: str | None) -> str | None:
    return _DONE.get(action or "")


def _overdue(view: ItemView, now: datetime) -> bool:
    from ..workitems.queries import is_overdue

    return is_overdue(view.item, now)


def _query_for(request: web.Request) -> Any:
    """A function building /inbox links that keep the current filters and change one."""
    base = {k: v for k, v in request.query.items() if k != "page"}

    def link(**changes: object) -> str:
        from urllib.parse import urlencode

        merged: dict[str, Any] = {**base, **{k: v for k, v in changes.items()}}
        return "/inbox?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})

    return link
