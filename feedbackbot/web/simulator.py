"""The flow simulator: administrators try any published flow on the web chat page, as a victim would."""

from __future__ import annotations

import secrets

from aiohttp import web
from sqlmodel import select

from ..clock import Clock
from ..conversation import Conversation
from ..flows.library import FlowLibrary
from ..store.db import Database
from ..store.tables import Case, Contact, Invitation, JourneyEvent
from .render import Pages


class Simulator:
    """Lists flows and starts test conversations, marked as tests so they never reach the board's figures."""

    def __init__(self, db: Database, flows: FlowLibrary, conversation: Conversation, pages: Pages,
                 clock: Clock) -> None:
        self.db = db
        self.flows = flows
        self.conversation = conversation
        self.pages = pages
        self.clock = clock

    def routes(self) -> list[web.RouteDef]:
        """The simulator's page and its start action."""
        return [web.get("/simulator", self.page, name="simulator"),
                web.post("/simulator", self.start, name="simulator_start")]

    async def page(self, request: web.Request) -> web.StreamResponse:
        """Every published flow with a button to try it."""
        flows = [s.flow for s in sorted(self.flows.current.values(), key=lambda s: s.flow.id)]
        return self.pages.render(request, "simulator.html", {"flows": flows}, no_store=True)

    async def start(self, request: web.Request) -> web.StreamResponse:
        """Create a test victim and case, start the flow, and open its chat page."""
        form = await request.post()
        flow_id = str(form.get("flow", ""))
        if flow_id not in self.flows.current:
            raise web.HTTPBadRequest(text=f"unknown flow {flow_id!r}")
        flow = self.flows.latest(flow_id)
        language = str(form.get("language", "en"))
        if language not in flow.languages:
            language = "en"
        token = await self.create_test_invitation(flow_id, language)
        raise web.HTTPSeeOther(str(request.app.router["chat"].url_for(token=token)))

    async def create_test_invitation(self, flow_id: str, language: str) -> str:
        """A test invitation on the web channel; returns its token."""
        now = self.clock.now()
        token = secrets.token_urlsafe(24)
        async with self.db.session() as s:
            case = (await s.exec(select(Case).where(Case.reference == "SIMULATOR"))).first()
            if case is None:
                case = Case(reference="SIMULATOR", crime_type="burglary", area="Birmingham",
                            officer_name="PC Test", team="Simulator", created_at=now, updated_at=now)
                s.add(case)
            contact = Contact(language=language, consent=True, safe_to_contact=True, preferred_channel="web",
                              allowed_channels=["web"], is_test=True, created_at=now, updated_at=now)
            s.add(contact)
            await s.flush()
            assert case.id is not None and contact.id is not None
            event = JourneyEvent(event_key=f"simulator:{token}", source="simulator", touchpoint=flow_id,
                                 case_id=case.id, contact_id=contact.id, occurred_at=now, received_at=now,
                                 outcome="invited")
            s.add(event)
            await s.flush()
            assert event.id is not None
            s.add(Invitation(token=token, journey_event_id=event.id, contact_id=contact.id, case_id=case.id,
                             touchpoint=flow_id, flow_id=flow_id, channel="web", address=f"web:{token}",
                             language=language, status="scheduled", send_after=now, created_at=now))
        return token
