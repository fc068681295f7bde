"""Demo data for ``feedbackbot demo``: a few cases whose victims chose the web link, so anyone can try a survey."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .accounts.demo_users import seed_demo_users
from .insights.demo_year import seed_demo_year

if TYPE_CHECKING:
    from .app import Services

DEMO_CASES: tuple[dict[str, Any], ...] = (
    {"touchpoint": "after_101_call", "reference": "20/400101/26", "crime_type": "theft from a motor vehicle",
     "area": "Birmingham", "officer_name": "Call handler Amira Hussain", "team": "Force Contact", "language": "en"},
    {"touchpoint": "after_attendance", "reference": "20/400202/26", "crime_type": "burglary",
     "area": "Coventry", "officer_name": "PC Daniel Okafor", "team": "Coventry Response", "language": "en"},
    {"touchpoint": "case_filed", "reference": "20/400303/26", "crime_type": "criminal damage",
     "area": "Wolverhampton", "officer_name": "DC Priya Sandhu", "team": "Wolverhampton IIT", "language": "en"},
    {"touchpoint": "after_court", "reference": "20/400404/26", "crime_type": "assault",
     "area": "Walsall", "officer_name": "DC Tom Bennett", "team": "Walsall CID", "language": "en"},
    {"touchpoint": "after_attendance", "reference": "20/400505/26", "crime_type": "burglary",
     "area": "Sandwell", "officer_name": "PC Kasia Nowak", "team": "Sandwell Response", "language": "pl"},
)


async def seed_demo(services: Services) -> list[str]:
    """Record the demo events (once; a second run finds them again) and return lines with links to open."""
    now = services.clock.now()
    lines: list[str] = []
    base = services.settings.public_url.rstrip("/")
    for i, spec in enumerate(DEMO_CASES, 1):
        if spec["touchpoint"] not in services.intake.touchpoints:
            continue
        data = {
            "event_id": f"demo-{i}",
            "touchpoint": spec["touchpoint"],
            "occurred_at": (now - timedelta(days=2)).isoformat(),
            "case": {"reference": spec["reference"], "crime_type": spec["crime_type"], "area": spec["area"],
                     "officer_name": spec["officer_name"], "team": spec["team"]},
            "victim": {"ref": f"DEMO-{i}", "preferred_channel": "web", "language": spec["language"],
                       "consent": True},
        }
        result = await services.intake.record(services.intake.parse(data), source="demo")
        inv = result.invitation
        if inv is None:
            continue
        flow = services.flows.latest(inv.flow_id)
        note = "" if spec["language"] == "en" else f" (in {spec['language']})"
        lines.append(f"  {flow.name}{note}:\n    {base}/s/{inv.token}")
    lines.extend(await seed_demo_users(services))
    lines.extend(await seed_demo_year(services))
    lines.append(f"\n  Try any flow, in any of its languages, in the simulator:\n    {base}/simulator")
    lines.append(f"\n  Journey API (key 'demo-key-not-for-production'): POST {base}/api/v1/events"
                 f"\n  API description: {base}/api/v1/openapi.json")
    return lines
