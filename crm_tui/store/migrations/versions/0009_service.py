"""service (issue 10 - tickets, complaints, reviews, care, outbox)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 20:45:00

Tickets with their SLA clocks, the complaint loop and the outbox. Reviews and care calls
are tasks (0004).
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import crm_tui.store.types  # noqa: F401


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.Column('created_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key')
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_customer', ['customer_id', 'id'], unique=False)
        batch_op.create_index('ix_outbox_due', ['state', 'next_attempt_at', 'id'], unique=False)

    op.create_table('ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=True),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('priority', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('queue', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('first_response_due', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolution_due', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_due_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_response_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paused_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution_note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('breached', sa.Boolean(), nullable=False),
    sa.Column('escalated_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reopened', sa.Integer(), nullable=False),
    sa.Column('csat', sa.Integer(), nullable=True),
    sa.Column('first_contact_resolution', sa.Boolean(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('csat IS NULL OR (csat >= 1 AND csat <= 5)', name='ck_ticket_csat'),
    sa.ForeignKeyConstraint(['assignee_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_assignee_due', ['assignee_id', 'next_due_at', 'id'], unique=False)
        batch_op.create_index('ix_ticket_branch_due', ['branch_id', 'next_due_at', 'id'], unique=False)
        batch_op.create_index('ix_ticket_customer', ['customer_id', 'id'], unique=False)
        batch_op.create_index('ix_ticket_due', ['next_due_at', 'id'], unique=False)
        batch_op.create_index('ix_ticket_queue_due', ['queue', 'next_due_at', 'id'], unique=False)
        batch_op.create_index('ix_ticket_team_due', ['team_id', 'next_due_at', 'id'], unique=False)

    op.create_table('complaint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('due_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_by', sa.Integer(), nullable=True),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('graded_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('graded_by', sa.Integer(), nullable=True),
    sa.Column('investigator_id', sa.Integer(), nullable=True),
    sa.Column('findings', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('investigated_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('investigated_by', sa.Integer(), nullable=True),
    sa.Column('remedy', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('resolved_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.Column('feedback', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    sa.Column('feedback_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('feedback_by', sa.Integer(), nullable=True),
    sa.Column('root_cause', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('corrective_action', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('action_owner_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', crm_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['action_owner_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['feedback_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['graded_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['investigated_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['investigator_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['received_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['resolved_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['reviewed_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id')
    )


def downgrade() -> None:
    op.drop_table('complaint')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_team_due')
        batch_op.drop_index('ix_ticket_queue_due')
        batch_op.drop_index('ix_ticket_due')
        batch_op.drop_index('ix_ticket_customer')
        batch_op.drop_index('ix_ticket_branch_due')
        batch_op.drop_index('ix_ticket_assignee_due')

    op.drop_table('ticket')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')
        batch_op.drop_index('ix_outbox_customer')

    op.drop_table('outbox_message')
