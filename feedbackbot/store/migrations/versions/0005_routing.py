"""routing: at most one urgent alert per work item, channel and round

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 00:50:00

Repeated urgent alerts are queued by whichever worker process gets there first; this partial unique
index makes the database refuse a second copy of the same round, so two workers cannot both queue it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALERT_KINDS = sa.text("kind IN ('urgent', 'urgent_repeat')")


def upgrade() -> None:
    op.create_index("uq_notifications_alert_round", "notifications", ["work_item_id", "channel", "sequence"],
                    unique=True, sqlite_where=ALERT_KINDS, postgresql_where=ALERT_KINDS)


def downgrade() -> None:
    op.drop_index("uq_notifications_alert_round", table_name="notifications")
