"""sales proposals (issue 9 - multi-product proposals)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 14:00:00

Reserved for the area named above; no schema change yet.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import crm_tui.store.types  # noqa: F401


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
