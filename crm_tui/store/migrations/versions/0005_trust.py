"""trust (issue 7 - session epoch, audit keys, data MACs)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:45:00

Staff get a session epoch (bumped on disable, role change, password reset); audit events get
a payload digest, a scheme ("sha" marks the events chained before keyed MACs: `crm db upgrade`
re-keys them when the key is at hand) and a row MAC; row_seal holds each watched row's seal.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import crm_tui.store.types  # noqa: F401


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff') as batch:
        batch.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0',
                                   nullable=False))
    with op.batch_alter_table('audit_event') as batch:
        batch.add_column(sa.Column('payload_digest', sqlmodel.sql.sqltypes.AutoString(length=64),
                                   server_default='', nullable=False))
        batch.add_column(sa.Column('scheme', sqlmodel.sql.sqltypes.AutoString(length=40),
                                   server_default='sha', nullable=False))
        batch.add_column(sa.Column('row_mac', sqlmodel.sql.sqltypes.AutoString(length=64),
                                   server_default='', nullable=False))
    op.create_table(
        'row_seal',
        sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('row_id', sa.Integer(), nullable=False),
        sa.Column('mac', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('entity', 'row_id'),
    )


def downgrade() -> None:
    op.drop_table('row_seal')
    with op.batch_alter_table('audit_event') as batch:
        batch.drop_column('row_mac')
        batch.drop_column('scheme')
        batch.drop_column('payload_digest')
    with op.batch_alter_table('staff') as batch:
        batch.drop_column('session_epoch')
