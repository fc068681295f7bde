"""The published survey flows: loaded from prompts/, recorded by version in the database, cached parsed."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..store.db import Database
from ..store.tables import FlowVersion
from .loader import FlowError, FlowProblem, FlowSource, load_flows, parse_flow
from .model import Flow
from .render import SAMPLE_CONTEXT


class FlowLibrary:
    """Current flows by id, and any older version a running session still needs."""

    def __init__(self, current: Mapping[str, FlowSource], max_segments: int = 2) -> None:
        self.current = dict(current)
        self.max_segments = max_segments
        self._by_version: dict[tuple[str, int], Flow] = {
            (s.flow.id, s.flow.version): s.flow for s in current.values()
        }

    @classmethod
    def from_folder(cls, folder: Path, *, max_segments: int = 2,
                    context: Mapping[str, str] = SAMPLE_CONTEXT) -> FlowLibrary:
        """Load and check every flow in ``folder`` (FlowError lists every problem)."""
        return cls(load_flows(folder, max_segments=max_segments, context=context), max_segments)

    def latest(self, flow_id: str) -> Flow:
        """The current version of a flow; KeyError if there is no such flow."""
        return self.current[flow_id].flow

    async def publish(self, db: Database, now: datetime) -> list[str]:
        """Record each current flow version in the database; return the ids newly published.

        A changed file whose version was not bumped is refused: running sessions must be able to rely
        on "version N" meaning one exact script.
        """
        published: list[str] = []
        problems: list[FlowProblem] = []
        async with db.session() as session:
            rows = (await session.exec(select(FlowVersion))).all()
            known = {(r.flow_id, r.version): r for r in rows}
            for source in self.current.values():
                key = (source.flow.id, source.flow.version)
                row = known.get(key)
                if row is None:
                    session.add(FlowVersion(flow_id=source.flow.id, version=source.flow.version,
                                            sha256=source.sha256, source_name=str(source.path.name),
                                            source=source.source, published_at=now))
                    published.append(f"{source.flow.id} v{source.flow.version}")
                elif row.sha256 != source.sha256:
                    problems.append(FlowProblem(str(source.path), 1, None,
                                                f"version {source.flow.version} was already published with "
                                                "different content; bump 'version' to publish a change"))
            if problems:
                raise FlowError(problems)
        return published

    async def get(self, session: AsyncSession, flow_id: str, version: int) -> Flow:
        """A flow at an exact version, from memory or from the published copy in the database."""
        cached = self._by_version.get((flow_id, version))
        if cached is not None:
            return cached
        row = (await session.exec(select(FlowVersion).where(FlowVersion.flow_id == flow_id,
                                                            FlowVersion.version == version))).first()
        if row is None:
            raise KeyError(f"flow {flow_id} v{version} was never published")
        # Older versions were valid when published; re-check structure but not today's SMS budget.
        flow = parse_flow(row.source, row.source_name, max_segments=1000)
        if hashlib.sha256(row.source.encode("utf-8")).hexdigest() != row.sha256:
            raise KeyError(f"flow {flow_id} v{version} in the database does not match its hash")
        self._by_version[(flow_id, version)] = flow
        return flow
