"""reports (issue 12 - report engine and early warnings)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 14:00:00

Saved reports carry a version, so the second of two concurrent edits is refused.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import crm_tui.store.types  # noqa: F401


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('saved_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('saved_report', schema=None) as batch_op:
        batch_op.drop_column('version')
