"""reply-path indexes: a reply's active survey by address, an address's messages in order, addresses by path

Without them SQLite answered "the active survey at this address" by walking every active survey and "this
address's unprocessed replies" by walking every unprocessed reply, so each turn cost more as surveys grew.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 03:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('survey_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sessions_address', ['address', 'status'], unique=False)
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_address')
        batch_op.create_index('ix_messages_address', ['address', 'id'], unique=False)
    with op.batch_alter_table('contact_addresses', schema=None) as batch_op:
        batch_op.create_index('ix_contact_addresses_path', ['path'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contact_addresses', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_addresses_path')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_address')
        batch_op.create_index('ix_messages_address', ['channel', 'address', 'id'], unique=False)
    with op.batch_alter_table('survey_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_address')
