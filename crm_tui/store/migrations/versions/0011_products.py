"""products (issue 15 - catalogue, prices, rates, holdings in units)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 20:45:00

The catalogue's product attributes (asset class, minimum and step, term and maturity,
fees, expected return range, issuer, early redemption, risk disclosure).
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import crm_tui.store.types  # noqa: F401


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


ASSET_CLASS = {"deposit": "cash", "wealth": "fixed_income", "fund": "mixed",
               "insurance": "insurance", "bond": "fixed_income", "structured": "alternatives"}


def upgrade() -> None:
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('asset_class', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default='fixed_income'))
        batch_op.add_column(sa.Column('min_amount_fen', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('step_amount_fen', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('term_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('maturity_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('fee_rate_bp', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('expected_return_low_bp', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('expected_return_high_bp', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('early_redeemable', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('disclosure', sa.Text(), nullable=False, server_default=''))
    product = sa.table('product', sa.column('category', sa.String), sa.column('asset_class', sa.String))
    for category, asset_class in ASSET_CLASS.items():
        op.execute(product.update().where(product.c.category == category).values(asset_class=asset_class))
    with op.batch_alter_table('product', schema=None) as batch_op:
        for name in ('asset_class', 'min_amount_fen', 'step_amount_fen', 'fee_rate_bp', 'issuer',
                     'early_redeemable', 'disclosure'):
            batch_op.alter_column(name, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('product', schema=None) as batch_op:
        for name in ('disclosure', 'early_redeemable', 'issuer', 'expected_return_high_bp',
                     'expected_return_low_bp', 'fee_rate_bp', 'maturity_date', 'term_days',
                     'step_amount_fen', 'min_amount_fen', 'asset_class'):
            batch_op.drop_column(name)
