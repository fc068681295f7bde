"""outbox claims, delivery times, channel links

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 23:15:28.714216
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import feedbackbot.store.types

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('channel_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', feedbackbot.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', feedbackbot.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('bound_address', sqlmodel.sql.sqltypes.AutoString(length=340), nullable=True),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('channel_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_links_invitation_id'), ['invitation_id'], unique=False)

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', feedbackbot.store.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('in_reply_to', sqlmodel.sql.sqltypes.AutoString(length=998), nullable=True))
        batch_op.add_column(sa.Column('delivered_at', feedbackbot.store.types.UTCDateTime(timezone=True), nullable=True))




def downgrade() -> None:

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('delivered_at')
        batch_op.drop_column('in_reply_to')
        batch_op.drop_column('claimed_at')

    with op.batch_alter_table('channel_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_links_invitation_id'))

    op.drop_table('channel_links')

