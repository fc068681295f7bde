"""Demo staff for ``feedbackbot demo``: one user per role and a control-room officer, with printed passwords."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import Accounts, NewUser

if TYPE_CHECKING:
    from ..app import Services

#: (username, role, name, officer ref, supervisor ref, queues). The demo cases' officer in case has no ref,
#: so routed items for "the officer in case" land in the default queue, which the demo officer works.
DEMO_STAFF: tuple[tuple[str, str, str, str | None, str | None, tuple[str, ...]], ...] = (
    ("admin", "admin", "Demo Administrator", None, None, ()),
    ("control", "officer", "PC Cara Control (control room)", "CR001", "S100", ("control_room",)),
    ("officer", "officer", "PC Daniel Okafor", "PC100", "S100",
     ("victim_care", "safeguarding", "professional_standards")),
    ("supervisor", "supervisor", "Sgt Sam Shaw", "S100", None, ("duty_inspector",)),
    ("board", "board", "Board Member Bo Ellis", None, None, ()),
)
DEMO_PASSWORD_SUFFIX = "-demo-password"  # noqa: S105 - demo logins, printed on purpose


async def seed_demo_users(services: Services) -> list[str]:
    """Create the demo staff (once) and return lines naming each login and its password."""
    accounts = Accounts(services.db, services.settings, services.clock)
    base = services.settings.public_url.rstrip("/")
    lines = [f"\n  Staff sign-in at {base}/login (demo passwords; never use these anywhere real):"]
    for username, role, name, ref, sup, teams in DEMO_STAFF:
        password = username + DEMO_PASSWORD_SUFFIX
        if await accounts.users.get(username) is None:
            await accounts.users.create(NewUser(username=username, role=role, display_name=name, officer_ref=ref,
                                                supervisor_ref=sup, teams=teams,
                                                email=f"{username}@police.example"), password)
        lines.append(f"    {role:<10} {username:<11} {password}")
    return lines
