"""A victim who talks to the bot through the real web chat endpoints, as a person with a browser would."""

from __future__ import annotations

import itertools
from typing import Any

from aiohttp.test_utils import TestClient

API_KEY = "test-records-system-key-0001"
_ids = itertools.count(1)


def event_body(touchpoint: str = "after_attendance", *, channel: str = "web", language: str = "en",
               reference: str | None = None, victim_ref: str | None = None, **victim: Any) -> dict[str, Any]:
    """A journey event as the records system would post it."""
    n = next(_ids)
    return {
        "event_id": f"evt-{n}",
        "touchpoint": touchpoint,
        "case": {"reference": reference or f"20/{100000 + n}/26", "crime_type": "burglary", "area": "Coventry",
                 "officer_in_case": "PC4521", "officer_name": "PC Daniel Okafor", "team": "Coventry Response"},
        "victim": {"ref": victim_ref or f"P-{n}", "preferred_channel": channel, "language": language,
                   "consent": True, **victim},
    }


async def post_event(client: TestClient[Any, Any], body: dict[str, Any], key: str = API_KEY) -> Any:
    """POST an event with the test API key; returns the response."""
    return await client.post("/api/v1/events", json=body, headers={"Authorization": f"Bearer {key}"})


class Victim:
    """Opens their survey link and replies; remembers everything the bot said."""

    def __init__(self, client: TestClient[Any, Any], token: str) -> None:
        self.client = client
        self.token = token
        self.heard: list[str] = []
        self.finished = False

    @classmethod
    async def invited(cls, client: TestClient[Any, Any], touchpoint: str = "after_attendance",
                      **kwargs: Any) -> Victim:
        """Have the records system report a touchpoint for a victim who chose the web link."""
        response = await post_event(client, event_body(touchpoint, **kwargs))
        assert response.status == 201, await response.text()
        body = await response.json()
        return cls(client, body["invitation"]["survey_url"].rsplit("/", 1)[1])

    async def open(self) -> list[str]:
        """Open the link (which starts the survey) and read what the bot has said so far."""
        page = await self.client.get(f"/s/{self.token}")
        assert page.status == 200
        response = await self.client.get(f"/s/{self.token}/messages", params={"after": "0"})
        body = await response.json()
        said = [m["text"] for m in body["messages"] if m["from"] == "police"]
        self.heard.extend(said)
        self.finished = body["finished"]
        return said

    async def say(self, text: str, client_id: str | None = None) -> list[str]:
        """Send a reply; returns what the bot said back."""
        payload: dict[str, Any] = {"text": text}
        if client_id is not None:
            payload["client_id"] = client_id
        response = await self.client.post(f"/s/{self.token}/messages", json=payload)
        assert response.status == 200, await response.text()
        body = await response.json()
        said = [m["text"] for m in body["messages"] if m["from"] == "police"]
        self.heard.extend(said)
        self.finished = body["finished"]
        return said
