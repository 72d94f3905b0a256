"""portfolio lists (issue 15 - portfolio list speed)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 14:00:00

Reserved for the area named above; no schema change yet.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import crm_tui.store.types  # noqa: F401


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
