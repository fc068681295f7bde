"""the outbox index in id order: the queue is read oldest first without sorting every queued message

``ix_messages_outbox`` was (direction, status, next_attempt_at). The outbox claims the oldest due sends in id
order, so SQLite read every queued row through that index and sorted them all before taking the first few:
with a few thousand sends waiting for the rate limit that was 20-50 ms per claim, on the event loop. In
(direction, status, id) order it reads the first due rows and stops; the same holds for the unprocessed
replies read at start-up.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 06:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_outbox')
        batch_op.create_index('ix_messages_outbox', ['direction', 'status', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_outbox')
        batch_op.create_index('ix_messages_outbox', ['direction', 'status', 'next_attempt_at'], unique=False)
