"""Who is signed in: the roles and the frozen StaffUser that pages and permission checks use."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..store.tables import User

ADMIN, SUPERVISOR, OFFICER, BOARD = "admin", "supervisor", "officer", "board"
ROLES: tuple[str, ...] = (ADMIN, SUPERVISOR, OFFICER, BOARD)
#: Roles that may see victim text (work items and the replies in them).
CASEWORK_ROLES: tuple[str, ...] = (ADMIN, SUPERVISOR, OFFICER)

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")


@dataclass(frozen=True)
class StaffUser:
    """A signed-in member of staff, as handlers and templates see them."""

    id: int
    username: str
    display_name: str
    role: str
    officer_ref: str | None
    supervisor_ref: str | None
    teams: tuple[str, ...]

    @classmethod
    def from_row(cls, row: User) -> StaffUser:
        """The value for a users row."""
        assert row.id is not None
        return cls(id=row.id, username=row.username, display_name=row.display_name, role=row.role,
                   officer_ref=row.officer_ref, supervisor_ref=row.supervisor_ref, teams=tuple(row.teams or ()))

    @property
    def sees_casework(self) -> bool:
        """Whether this role may ever see victim text."""
        return self.role in CASEWORK_ROLES
