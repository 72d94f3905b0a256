"""ssh (issue 11 - staff keys, SSH sessions, language)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 20:45:00

Staff public keys (fingerprint unique: a key belongs to one person), SSH session records
(one-time token hash, heartbeat, end) and staff.language.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import crm_tui.store.types  # noqa: F401


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=10),
                                      server_default='', nullable=False))
    op.create_table('staff_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('algorithm', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('added_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fingerprint')
    )
    with op.batch_alter_table('staff_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_key_staff_id'), ['staff_id'], unique=False)
    op.create_table('ssh_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.Integer(), nullable=True),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('peer', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('gateway', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('started_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.ForeignKeyConstraint(['key_id'], ['staff_key.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ssh_session', schema=None) as batch_op:
        batch_op.create_index('ix_ssh_session_live', ['staff_id', 'ended_at'], unique=False)


def downgrade() -> None:
    op.drop_table('ssh_session')
    op.drop_table('staff_key')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('language')
