"""first week (issue 8 - first-week fixes)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 20:45:00

Reserved in the chain so that areas built side by side each own one revision; a revision
with nothing to do yet is a no-op.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import crm_tui.store.types  # noqa: F401


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
