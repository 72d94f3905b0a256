"""privacy (issue 14 - rights requests, access log, consent ledger, retention)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 20:45:00

The consent ledger; the customer's restriction flag, rights requests, the access log and
anonymisation batches.
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
    op.create_table('consent_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('notice_version', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('recorded_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.create_index('ix_consent_customer_purpose', ['customer_id', 'purpose', 'id'], unique=False)

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('restricted', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    op.create_table('privacy_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('purposes', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('opened_by', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.Integer(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('refusal_reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('access','correction','restriction','deletion')",
                       name='ck_privacy_request_kind'),
    sa.CheckConstraint("state IN ('open','completed','refused')", name='ck_privacy_request_state'),
    sa.CheckConstraint("state <> 'refused' OR refusal_reason <> ''",
                       name='ck_privacy_request_refusal_reason'),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['opened_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['closed_by'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('privacy_request', schema=None) as batch_op:
        batch_op.create_index('ix_privacy_request_state_due', ['state', 'due_at', 'id'], unique=False)
        batch_op.create_index('ix_privacy_request_customer', ['customer_id', 'id'], unique=False)
    op.create_table('access_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('staff_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('ids', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('terminal', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.create_index('ix_access_log_customer_time', ['customer_id', 'at'], unique=False)
        batch_op.create_index('ix_access_log_staff_time', ['staff_name', 'at'], unique=False)
    op.create_table('anonymisation_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('created_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('as_of', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('approval_id', sa.Integer(), nullable=True),
    sa.Column('applied_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('pending','applied','rejected')",
                       name='ck_anonymisation_batch_state'),
    sa.ForeignKeyConstraint(['approval_id'], ['approval_request.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('anonymisation_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('since', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['anonymisation_batch.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('customer_id', 'category', 'batch_id', name='uq_anonymisation_item')
    )
    with op.batch_alter_table('anonymisation_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_anonymisation_item_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index('ix_anonymisation_item_customer', ['customer_id', 'category'], unique=False)


def downgrade() -> None:
    op.drop_table('anonymisation_item')
    op.drop_table('anonymisation_batch')
    op.drop_table('access_log')
    op.drop_table('privacy_request')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('restricted')
    op.drop_table('consent_record')
