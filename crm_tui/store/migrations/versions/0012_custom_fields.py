"""custom fields (issue 13 - field definitions and custom values)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 20:45:00

Field definitions with their versions, and the JSON column of custom values.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import crm_tui.store.types  # noqa: F401


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


# Entities whose records carry custom values (one JSON column each).
CUSTOM_TABLES = ('customer',)


def upgrade() -> None:
    op.create_table('field_definition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('label_zh', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('label_en', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('pattern', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('min_value', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('max_value', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('help_zh', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('help_en', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('section', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('filterable', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('entity', 'key', name='uq_field_definition')
    )
    op.create_table('field_definition_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('change', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('changed_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('changed_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['definition_id'], ['field_definition.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('field_definition_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_definition_version_definition_id'), ['definition_id'], unique=False)
    for table in CUSTOM_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('custom', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    for table in CUSTOM_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('custom')
    with op.batch_alter_table('field_definition_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_definition_version_definition_id'))
    op.drop_table('field_definition_version')
    op.drop_table('field_definition')
