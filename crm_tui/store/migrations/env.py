"""Alembic environment: the engine comes from the caller (see crm_tui.store.migrate)."""

from alembic import context
from sqlmodel import SQLModel

import crm_tui.store.models  # noqa: F401  (registers the tables)
import crm_tui.store.models_compliance  # noqa: F401  (approvals, feed, alerts)
import crm_tui.store.models_workflow  # noqa: F401  (notifications, tasks)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
