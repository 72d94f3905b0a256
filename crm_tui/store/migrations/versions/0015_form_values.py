"""form values (issue 13 - custom values on leads, opportunities and tickets)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 14:00:00

Reserved for the area named above; no schema change yet.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import crm_tui.store.types  # noqa: F401


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
