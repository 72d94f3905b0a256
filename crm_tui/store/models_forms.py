"""The form engine's tables: custom field definitions and every version of them.

Values of custom fields live in one JSON column per entity (`customer.custom`, and the
same column on leads, opportunities and tickets), keyed by the field's key; a sensitive
field's value is stored there as ciphertext. Fields marked filterable get an expression
index on their key, created when the field is defined; a filterable multi-choice field's
items are kept in `custom_choice` instead (see `CustomChoice`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from crm_tui.store.types import UTCDateTime, utcnow


class FieldDefinition(SQLModel, table=True):
    __tablename__ = "field_definition"
    __table_args__ = (UniqueConstraint("entity", "key", name="uq_field_definition"),)

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(max_length=20)
    key: str = Field(max_length=40)
    type: str = Field(max_length=20)
    label_zh: str = Field(max_length=60)
    label_en: str = Field(max_length=60)
    required: bool = Field(default=False)
    choices: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    pattern: str | None = Field(default=None, max_length=200)
    min_value: str | None = Field(default=None, max_length=40)
    max_value: str | None = Field(default=None, max_length=40)
    help_zh: str = Field(default="", max_length=200)
    help_en: str = Field(default="", max_length=200)
    section: str = Field(default="custom", max_length=40)
    position: int = Field(default=0)
    sensitive: bool = Field(default=False)
    filterable: bool = Field(default=False)
    status: str = Field(default="active", max_length=10)  # active | retired
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)


class FieldDefinitionVersion(SQLModel, table=True):
    """The whole definition as it was after each change (add, edit, retire, re-add)."""

    __tablename__ = "field_definition_version"

    id: int | None = Field(default=None, primary_key=True)
    definition_id: int = Field(foreign_key="field_definition.id", index=True)
    version: int
    change: str = Field(max_length=10)
    body: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    changed_by: str = Field(max_length=100)
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)


class CustomChoice(SQLModel, table=True):
    """One item of a multi-choice custom value, for the filters: a JSON array cannot be
    indexed by an expression, so every item of a filterable multi-choice field lives here
    too, and `KEY=VALUE` reads this table's primary key instead of every record's JSON.

    The database keeps it (`store.choice_index`): triggers on the entity tables rewrite a
    record's rows whenever its `custom` column is inserted, changed or deleted, so every
    writer — a form save, an import, an approved change, an anonymisation, raw SQL — keeps
    it in the same transaction; a definition change refills the field's rows.
    """

    __tablename__ = "custom_choice"
    __table_args__ = (Index("ix_custom_choice_record", "entity", "record_id"),)

    entity: str = Field(max_length=20, primary_key=True)
    field_key: str = Field(max_length=40, primary_key=True)
    value: str = Field(sa_type=Text(), primary_key=True)
    record_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})


def _install_choice_triggers(_target: Any, connection: Any, **_kw: Any) -> None:
    from crm_tui.store.choice_index import install

    install(connection)


# A schema made from the models (tests, `create_all`) gets the triggers as migration 0020 does.
event.listen(SQLModel.metadata, "after_create", _install_choice_triggers)
