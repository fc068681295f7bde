"""Wires the staff side into the app: accounts, the session/CSRF middleware, sign-in, inbox and admin pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aiohttp import web

from ..accounts import Accounts
from ..workitems.actions import WorkItemActions
from ..workitems.reply_templates import ReplyTemplate, load_reply_templates
from .admin_pages import AdminPages
from .auth import STAFF, Staff, staff_middleware
from .auth_pages import AuthPages
from .inbox_pages import InboxPages

if TYPE_CHECKING:
    from ..app import Services

REPLY_TEMPLATES_FILE = "reply_templates.yaml"


def install_staff(app: web.Application, services: Services) -> Staff:
    """Add the staff middleware and pages to an app that is still being built.

    The reply templates are read now, so a mistake in them stops start-up with file and line named.
    """
    settings = services.settings
    accounts = Accounts(services.db, settings, services.clock)
    staff = Staff(accounts=accounts, pages=services.pages, settings=settings)
    app[STAFF] = staff
    app.middlewares.append(staff_middleware(staff))
    templates = load_reply_templates(settings.prompts_dir / REPLY_TEMPLATES_FILE)
    queues = services.router.rules.queues

    def reply_templates() -> Mapping[str, ReplyTemplate]:
        return templates

    def queue_contacts() -> Mapping[str, tuple[str, str | None]]:
        return {q.id: (q.name, q.email) for q in queues.values()}

    def queue_names() -> Mapping[str, str]:
        return {q.id: q.name for q in queues.values()}

    actions = WorkItemActions(services.db, settings, services.clock, reply_templates, queue_contacts,
                              services.conversation.outbox_ready)
    app.router.add_routes(AuthPages().routes())
    app.router.add_routes(InboxPages(actions, services.clock, settings.timezone, reply_templates,
                                     queue_names).routes())
    app.router.add_routes(AdminPages(services.outbox.retry).routes())
    return staff
