"""insights aggregates: reach, ratings, feedback and work-item facts for the board, and their watermark

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 00:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import feedbackbot.store.types

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString


def _slice_columns() -> list[sa.Column]:
    return [
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('grain', _S(length=8), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('touchpoint', _S(length=64), nullable=False),
        sa.Column('channel', _S(length=16), nullable=False),
        sa.Column('crime_type', _S(length=100), nullable=False),
        sa.Column('area', _S(length=100), nullable=False),
        sa.Column('group_kind', _S(length=16), nullable=False),
        sa.Column('group_value', _S(length=100), nullable=False),
    ]


#: Filtered views read their slice of the "full" grains through (grain, group_kind, column, day).
FILTER_COLUMNS = ('touchpoint', 'channel', 'crime_type', 'area', 'group_value')


def _indexes(table: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(f'ix_{table}_slice', ['grain', 'day', 'group_kind'], unique=False)
        for column in FILTER_COLUMNS:
            batch_op.create_index(f'ix_{table}_{column}', ['grain', 'group_kind', column, 'day'], unique=False)


#: Indexes on other modules' tables that let the incremental refresh find what changed since its watermark
#: (and rebuild a day's facts) without reading every row.
CHANGE_INDEXES = (
    ('contacts', 'ix_contacts_updated', 'updated_at'),
    ('invitations', 'ix_invitations_created', 'created_at'),
    ('invitations', 'ix_invitations_sent', 'sent_at'),
    ('survey_sessions', 'ix_sessions_updated', 'updated_at'),
    ('messages', 'ix_messages_updated', 'updated_at'),
    ('feedback_items', 'ix_feedback_classified', 'classified_at'),
    ('work_items', 'ix_work_items_created', 'created_at'),
    ('work_items', 'ix_work_items_updated', 'updated_at'),
)


def upgrade() -> None:
    for table, name, column in CHANGE_INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, [column], unique=False)
    op.create_table('insight_reach', *_slice_columns(),
                    sa.Column('invited', sa.Integer(), nullable=False),
                    sa.Column('sent', sa.Integer(), nullable=False),
                    sa.Column('delivered', sa.Integer(), nullable=False),
                    sa.Column('started', sa.Integer(), nullable=False),
                    sa.Column('completed', sa.Integer(), nullable=False),
                    sa.Column('opted_out', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    _indexes('insight_reach')
    op.create_table('insight_ratings', *_slice_columns(),
                    sa.Column('measure', _S(length=64), nullable=False),
                    sa.Column('answered', sa.Integer(), nullable=False),
                    sa.Column('positive', sa.Integer(), nullable=False),
                    sa.Column('total', sa.Float(), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    _indexes('insight_ratings')
    op.create_table('insight_feedback', *_slice_columns(),
                    sa.Column('kind', _S(length=16), nullable=False),
                    sa.Column('label', _S(length=64), nullable=False),
                    sa.Column('items', sa.Integer(), nullable=False),
                    sa.Column('sessions', sa.Integer(), nullable=False),
                    sa.Column('positive', sa.Integer(), nullable=False),
                    sa.Column('negative', sa.Integer(), nullable=False),
                    sa.Column('neutral', sa.Integer(), nullable=False),
                    sa.Column('mixed', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    _indexes('insight_feedback')
    op.create_table('insight_work', *_slice_columns(),
                    sa.Column('queue', _S(length=64), nullable=False),
                    sa.Column('priority', _S(length=16), nullable=False),
                    sa.Column('items', sa.Integer(), nullable=False),
                    sa.Column('acknowledged', sa.Integer(), nullable=False),
                    sa.Column('acknowledged_in_time', sa.Integer(), nullable=False),
                    sa.Column('acknowledge_minutes', sa.Float(), nullable=False),
                    sa.Column('resolved', sa.Integer(), nullable=False),
                    sa.Column('resolved_in_time', sa.Integer(), nullable=False),
                    sa.Column('resolve_minutes', sa.Float(), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    _indexes('insight_work')
    op.create_table('insight_watermarks',
                    sa.Column('name', _S(length=32), nullable=False),
                    sa.Column('refreshed_at', feedbackbot.store.types.UTCDateTime(timezone=True), nullable=False),
                    sa.Column('days', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('name'))


def downgrade() -> None:
    op.drop_table('insight_watermarks')
    for table in ('insight_work', 'insight_feedback', 'insight_ratings', 'insight_reach'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_slice')
            for column in FILTER_COLUMNS:
                batch_op.drop_index(f'ix_{table}_{column}')
        op.drop_table(table)
    for table, name, _ in reversed(CHANGE_INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
