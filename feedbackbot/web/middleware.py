"""Middleware: safe headers on every response, and errors as clear messages rather than stack traces."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from .render import Pages

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith(("/api/", "/webhooks/")) or request.path.endswith("/messages") \
        or "application/json" in request.headers.get("Accept", "")


def error_middleware(pages: Pages) -> Middleware:
    """Turn every error into a short JSON or HTML answer; log the id and path, never the body."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            custom = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else None
            return _error(request, pages, exc.status, exc.reason, custom)
        except Exception:
            incident = uuid.uuid4().hex[:12]
            log.exception("unhandled error %s on %s %s", incident, request.method, request.path)
            return _error(request, pages, 500, "Internal Server Error",
                          f"Something went wrong on our side (reference {incident}). Nothing you sent was lost.")
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    return middleware


def _error(request: web.Request, pages: Pages, status: int, reason: str, detail: str | None) -> web.Response:
    code = reason.lower().replace(" ", "_")
    if _wants_json(request):
        response = web.json_response({"error": code, "message": detail or reason}, status=status)
    else:
        response = pages.render(request, "error.html", {"status": status, "reason": reason,
                                                        "detail": detail}, status=status)
    for key, value in SECURITY_HEADERS.items():
        response.headers[key] = value
    return response
