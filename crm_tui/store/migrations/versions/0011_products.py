"""products (issue 15 - catalogue, prices, rates, holdings in units)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 20:45:00

Reserved in the chain so that areas built side by side each own one revision; a revision
with nothing to do yet is a no-op.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import crm_tui.store.types  # noqa: F401


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
