"""Logging set-up: ids, channels and statuses only; survey tokens masked; victim text never written."""

from __future__ import annotations

import logging
import re

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

_TOKEN_PATH = re.compile(r"^/s/[^/]+")


def configure_logging(level: str) -> None:
    """Plain, timestamped log lines on stderr."""
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Libraries that would log addresses or tokens at INFO: the SMTP listener, the HTTP client (bot token in URLs).
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


class AccessLogger(AbstractAccessLogger):
    """One line per request: method, path with any survey token masked, status, time. No query, no body."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Write the access line."""
        path = _TOKEN_PATH.sub("/s/<token>", request.path)
        self.logger.info("%s %s %s %.1fms", request.method, path, response.status, time * 1000)
