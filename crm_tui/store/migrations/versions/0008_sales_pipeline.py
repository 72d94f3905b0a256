"""sales pipeline (issue 9 - leads, opportunities, questionnaires, proposals)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 20:45:00

Reserved in the chain so that areas built side by side each own one revision; a revision
with nothing to do yet is a no-op.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import crm_tui.store.types  # noqa: F401


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
