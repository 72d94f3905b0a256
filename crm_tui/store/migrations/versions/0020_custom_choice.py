"""custom choice index (issue 13 - filterable multi-choice fields use an index)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 18:00:00

`custom_choice` holds one row per item of every filterable multi-choice custom value, kept
by triggers on customer, lead, opportunity and ticket (see `crm_tui/store/choice_index.py`),
and is filled here from the rows already stored. The expression index a filterable
multi-choice field got when it was defined (`custom ->> key` of a list) served no filter and
is dropped.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import crm_tui.store.types  # noqa: F401


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from crm_tui.store import choice_index

    op.create_table(
        'custom_choice',
        sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('field_key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('record_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint('entity', 'field_key', 'value', 'record_id'),
    )
    op.create_index('ix_custom_choice_record', 'custom_choice', ['entity', 'record_id'])
    bind = op.get_bind()
    choice_index.install(bind)
    rows = bind.execute(sa.text(
        "SELECT entity, key FROM field_definition WHERE type = 'multi_choice' AND filterable "
        "AND status = 'active' AND NOT sensitive")).all()
    for entity, key in rows:
        choice_index.refill(bind, entity, key)
        # the expression index made for it when it was defined served no filter
        op.execute(f'DROP INDEX IF EXISTS "ix_{entity}_cf_{key}"')


def downgrade() -> None:
    from crm_tui.store import choice_index

    choice_index.uninstall(op.get_bind())
    op.drop_index('ix_custom_choice_record', table_name='custom_choice')
    op.drop_table('custom_choice')
