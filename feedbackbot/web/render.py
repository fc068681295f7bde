"""Jinja2 page rendering with autoescaping on, so victim text is always shown as text."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from ..settings import Settings

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"


class Pages:
    """Renders templates with the force's name and shared settings available to every page."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=jinja2.select_autoescape(["html", "xml"], default=True),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render_text(self, template: str, context: Mapping[str, Any]) -> str:
        """Render to a string."""
        return self.env.get_template(template).render({"force_name": self.settings.force_name, **context})

    def render(self, request: web.Request, template: str, context: Mapping[str, Any], *, status: int = 200,
               no_store: bool = False) -> web.Response:
        """Render to an HTML response."""
        body = self.render_text(template, {"request": request, **context})
        headers = {"Cache-Control": "no-store"} if no_store else {}
        return web.Response(text=body, status=status, content_type="text/html", charset="utf-8",
                            headers=headers)
