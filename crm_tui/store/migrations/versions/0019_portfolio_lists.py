"""portfolio lists (issue 15 - portfolio list speed)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 14:00:00

Two indexes that give an RM's or a branch's book in id order, so the keyset work lists
(customers out of band, holdings above risk) read the next chunk without sorting the book.
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
    op.create_index("ix_customer_rm_book", "customer", ["rm_id", "id"])
    op.create_index("ix_customer_branch_book", "customer", ["branch_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_customer_branch_book", table_name="customer")
    op.drop_index("ix_customer_rm_book", table_name="customer")
