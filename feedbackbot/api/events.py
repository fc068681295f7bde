"""``POST /api/v1/events``: the records system reports that a victim reached a journey touchpoint."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from ..intake import Intake, IntakeResult, InvalidEvent
from ..settings import ApiKey, Settings
from .openapi import openapi_document

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024


def authorised_key(request: web.Request, keys: Iterable[ApiKey]) -> ApiKey | None:
    """The API key the request carries as ``Authorization: Bearer <key>``, compared in constant time."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    found = None
    for key in keys:
        if hmac.compare_digest(key.key.encode(), token.strip().encode()):
            found = key
    return found


def result_json(result: IntakeResult, public_url: str) -> dict[str, Any]:
    """The response body for an intake result."""
    body: dict[str, Any] = {"event": result.event_id, "outcome": result.outcome, "duplicate": result.duplicate}
    if result.reason:
        body["reason"] = result.reason
    inv = result.invitation
    if inv is not None:
        body["invitation"] = {
            "id": inv.id,
            "touchpoint": inv.touchpoint,
            "flow": inv.flow_id,
            "channel": {"tel": "sms", "mailto": "email"}.get(inv.channel, inv.channel),
            "status": inv.status,
            "send_after": inv.send_after.isoformat(),
        }
        if inv.channel == "web":
            body["invitation"]["survey_url"] = f"{public_url.rstrip('/')}/s/{inv.token}"
    return body


class EventsApi:
    """Handlers for the journey API."""

    def __init__(self, intake: Intake, settings: Settings, on_invited: Callable[[], None]) -> None:
        self.intake = intake
        self.settings = settings
        self.on_invited = on_invited

    def routes(self) -> list[web.RouteDef]:
        """The API's routes."""
        return [
            web.post("/api/v1/events", self.post_event, name="api_events"),
            web.get("/api/v1/openapi.json", self.openapi, name="api_openapi"),
        ]

    async def openapi(self, request: web.Request) -> web.StreamResponse:
        """The OpenAPI 3.1 description of this API."""
        return web.json_response(openapi_document(self.settings.public_url, sorted(self.intake.touchpoints)))

    async def post_event(self, request: web.Request) -> web.StreamResponse:
        """Record one touchpoint event; 201 with the invitation, 200 when not eligible or a repeat."""
        key = authorised_key(request, self.settings.api_keys)
        if key is None:
            return web.json_response({"error": "unauthorised", "message": "send Authorization: Bearer <api key>"},
                                     status=401, headers={"WWW-Authenticate": 'Bearer realm="feedbackbot"'})
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "too_large", "message": f"the body is over {MAX_BODY} bytes"},
                                     status=413)
        if request.content_type != "application/json":
            return web.json_response({"error": "unsupported_media_type",
                                      "message": "send Content-Type: application/json"}, status=415)
        raw = await request.content.read(MAX_BODY + 1)
        if len(raw) > MAX_BODY:
            return web.json_response({"error": "too_large", "message": f"the body is over {MAX_BODY} bytes"},
                                     status=413)
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return web.json_response({"error": "invalid_json", "message": "the body is not valid JSON"}, status=400)
        try:
            event = self.intake.parse(data)
        except InvalidEvent as exc:
            return web.json_response({"error": "invalid_event", "message": "the event has problems",
                                      "problems": [{"field": p.field, "message": p.message} for p in exc.problems]},
                                     status=422)
        result = await self.intake.record(event, source=key.name)
        log.info("event %s from %s: %s%s", result.event_id, key.name, result.outcome,
                 " (repeat)" if result.duplicate else "")
        if result.invitation is not None and not result.duplicate:
            self.on_invited()
        status = 201 if result.outcome == "invited" and not result.duplicate else 200
        return web.json_response(result_json(result, self.settings.public_url), status=status)
