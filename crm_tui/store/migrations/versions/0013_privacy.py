"""privacy (issue 14 - rights requests, access log, consent ledger, retention)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 20:45:00

Reserved in the chain so that areas built side by side each own one revision; a revision
with nothing to do yet is a no-op.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import crm_tui.store.types  # noqa: F401


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
