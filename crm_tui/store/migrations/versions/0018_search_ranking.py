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

_SEARCHABLE = ["name", "name_initials", "name_pinyin", "phone_last4"]
_SCOPED = {"ix_customer_rm_search": "rm_id", "ix_customer_branch_search": "branch_id"}
_KEYS = {"ix_customer_name": "name", "ix_customer_name_pinyin": "name_pinyin",
         "ix_customer_name_initials": "name_initials", "ix_customer_phone_last4": "phone_last4"}


def upgrade() -> None:
    op.add_column("customer", sa.Column("last_contact_at", crm_tui.store.types.UTCDateTime(),
                                        nullable=True))
    op.execute("UPDATE customer SET last_contact_at = (SELECT max(i.occurred_at) FROM interaction i"
               " WHERE i.customer_id = customer.id)")
    for name, scope in _SCOPED.items():
        op.drop_index(name, table_name="customer")
        op.create_index(name, "customer", [scope, *_SEARCHABLE, "last_contact_at", "restricted"])
    for name, key in _KEYS.items():
        op.drop_index(name, table_name="customer")
        op.create_index(name, "customer", [key, "last_contact_at", "restricted"])


def downgrade() -> None:
    for name, key in _KEYS.items():
        op.drop_index(name, table_name="customer")
        op.create_index(name, "customer", [key])
    for name, scope in _SCOPED.items():
        op.drop_index(name, table_name="customer")
        op.create_index(name, "customer", [scope, *_SEARCHABLE])
    with op.batch_alter_table("customer") as batch_op:
        batch_op.drop_column("last_contact_at")
