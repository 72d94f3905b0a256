"""form values (issue 13 - custom values on leads, opportunities and tickets)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 14:00:00

The JSON column of custom values on leads, opportunities and tickets (customers have had
it since 0012), and the expression index of every active filterable field already
defined for them (new ones get theirs when they are defined, as for customers).
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import crm_tui.store.types  # noqa: F401


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


CUSTOM_TABLES = ('lead', 'opportunity', 'ticket')


def _expression(dialect: str, key: str) -> str:
    """`custom ->> key` as SQLAlchemy compiles `custom[key].as_string()` on each backend, so
    the planner matches the list filters against the index."""
    if dialect == 'postgresql':
        return f"(CAST(custom ->> '{key}' AS VARCHAR))"
    return f"(CAST(JSON_EXTRACT(custom, '$.\"{key}\"') AS VARCHAR))"


def upgrade() -> None:
    for table in CUSTOM_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('custom', sa.JSON(), nullable=False,
                                          server_default=sa.text("'{}'")))
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT entity, key FROM field_definition WHERE filterable AND status = 'active' "
        "AND entity IN ('lead', 'opportunity', 'ticket')")).all()
    for entity, key in rows:
        op.execute(f'CREATE INDEX IF NOT EXISTS "ix_{entity}_cf_{key}" ON "{entity}" '
                   f'({_expression(bind.dialect.name, key)})')


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT entity, key FROM field_definition "
        "WHERE entity IN ('lead', 'opportunity', 'ticket')")).all()
    for entity, key in rows:
        op.execute(f'DROP INDEX IF EXISTS "ix_{entity}_cf_{key}"')
    for table in CUSTOM_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('custom')
