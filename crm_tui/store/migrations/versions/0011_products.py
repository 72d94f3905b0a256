"""products (issue 15 - catalogue, prices, rates, holdings in units)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 20:45:00

The catalogue's product attributes (asset class, minimum and step, term and maturity,
fees, expected return range, issuer, early redemption, risk disclosure); prices and
exchange rates per day; holdings in units of their own currency. Today's holdings become
units at a price of 1 in CNY (units = amount in yuan, cost = amount), so AUM keeps its figure.
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

    op.create_table('product_price',
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('price_date', sa.Date(), nullable=False),
        sa.Column('price_e6', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('price_e6 > 0', name='ck_product_price_positive'),
        sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
        sa.PrimaryKeyConstraint('product_id', 'price_date'))
    op.create_table('exchange_rate',
        sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column('rate_date', sa.Date(), nullable=False),
        sa.Column('rate_e6', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('rate_e6 > 0', name='ck_exchange_rate_positive'),
        sa.PrimaryKeyConstraint('currency', 'rate_date'))
    with op.batch_alter_table('holding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('units_e4', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False, server_default='CNY'))
    holding = sa.table('holding', sa.column('amount_fen', sa.BigInteger), sa.column('units_e4', sa.BigInteger))
    # fen → units × 10^4 at price 1: 1 fen = 0.01 unit = 100 units_e4.
    op.execute(holding.update().values(units_e4=holding.c.amount_fen * 100))
    with op.batch_alter_table('holding', schema=None) as batch_op:
        batch_op.alter_column('units_e4', server_default=None)
        batch_op.alter_column('currency', server_default=None)
        batch_op.create_check_constraint('ck_holding_units_nonneg', 'units_e4 >= 0')


def downgrade() -> None:
    with op.batch_alter_table('holding', schema=None) as batch_op:
        batch_op.drop_constraint('ck_holding_units_nonneg', type_='check')
        batch_op.drop_column('currency')
        batch_op.drop_column('units_e4')
    op.drop_table('exchange_rate')
    op.drop_table('product_price')
    with op.batch_alter_table('product', schema=None) as batch_op:
        for name in ('disclosure', 'early_redeemable', 'issuer', 'expected_return_high_bp',
                     'expected_return_low_bp', 'fee_rate_bp', 'maturity_date', 'term_days',
                     'step_amount_fen', 'min_amount_fen', 'asset_class'):
            batch_op.drop_column(name)
