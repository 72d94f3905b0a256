"""sales proposals (issue 9 - multi-product proposals)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 14:00:00

An opportunity's product lines: `opportunity_line(opportunity_id, position, product_id,
amount_fen)`. Every existing opportunity with a chosen product gets its one line, so
single-product proposals and closings carry on unchanged.
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'opportunity_line',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('opportunity_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id']),
        sa.ForeignKeyConstraint(['product_id'], ['product.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_opportunity_line_opportunity', 'opportunity_line',
                    ['opportunity_id', 'position'], unique=False)
    op.execute(
        "INSERT INTO opportunity_line (opportunity_id, position, product_id, amount_fen) "
        "SELECT id, 1, product_id, amount_fen FROM opportunity WHERE product_id IS NOT NULL")


def downgrade() -> None:
    op.drop_index('ix_opportunity_line_opportunity', table_name='opportunity_line')
    op.drop_table('opportunity_line')
