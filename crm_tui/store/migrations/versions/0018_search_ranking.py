"""search ranking (issue 8 - search ranking)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 14:00:00

A customer's last contact (the latest interaction's time), kept on the customer so search
can rank each match rank by it; the search indexes carry it and the restriction flag, so
ranking reads indexes only. Existing customers get it from their interactions.
"""
from alembic import op
import sqlalchemy as sa
import crm_tui.store.types


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

_SCOPED = ("rm_id", "branch_id")
_KEYS = ("name", "name_pinyin", "name_initials", "phone_last4")
_SEARCHABLE = ["name", "name_initials", "name_pinyin", "phone_last4"]


def upgrade() -> None:
    op.add_column("customer", sa.Column("last_contact_at", crm_tui.store.types.UTCDateTime(),
                                        nullable=True))
    op.execute("UPDATE customer SET last_contact_at = (SELECT max(i.occurred_at) FROM interaction i"
               " WHERE i.customer_id = customer.id)")
    for scope in _SCOPED:
        name = f"ix_customer_{scope.removesuffix('_id')}_search"
        op.drop_index(name, table_name="customer")
        op.create_index(name, "customer",
                        [scope, *_SEARCHABLE, "last_contact_at", "restricted"])
    for key in _KEYS:
        op.drop_index(f"ix_customer_{key}", table_name="customer")
        op.create_index(f"ix_customer_{key}", "customer", [key, "last_contact_at", "restricted"])


def downgrade() -> None:
    for key in _KEYS:
        op.drop_index(f"ix_customer_{key}", table_name="customer")
        op.create_index(f"ix_customer_{key}", "customer", [key])
    for scope in _SCOPED:
        name = f"ix_customer_{scope.removesuffix('_id')}_search"
        op.drop_index(name, table_name="customer")
        op.create_index(name, "customer", [scope, *_SEARCHABLE])
    with op.batch_alter_table("customer") as batch_op:
        batch_op.drop_column("last_contact_at")
