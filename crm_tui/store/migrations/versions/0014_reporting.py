"""reporting (issue 12 - targets and saved reports)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 20:45:00

Sales targets, saved report definitions, and the end of a customer relationship (churn).
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import crm_tui.store.types  # noqa: F401


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('saved_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('updated_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('sales_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('set_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('set_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(staff_id IS NULL) <> (team_id IS NULL)', name='ck_sales_target_who'),
    sa.CheckConstraint('amount_fen > 0', name='ck_sales_target_positive'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period', 'staff_id', 'team_id', name='uq_sales_target')
    )
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('churned_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('churn_reason', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('churn_reason')
        batch_op.drop_column('churned_at')
    op.drop_table('sales_target')
    op.drop_table('saved_report')
