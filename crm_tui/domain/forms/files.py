"""Custom fields in import files: a column is named by the field's key or either label
(any case, spaces or underscores), and its cells are validated and stored exactly as the
form stores them (`values.stored_for_new`), with errors naming the row and the field."""

from __future__ import annotations

from typing import Any

from crm_tui.domain.forms.registry import custom_fields
from crm_tui.domain.forms.values import stored_for_new
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
from crm_tui.domain.kernel.fields import normalise_header


def custom_headers(crm: Crm, entity: str) -> dict[str, str]:
    """Normalised header → field key, for the entity's active custom fields."""
    out: dict[str, str] = {}
    for f in custom_fields(crm, entity):
        for name in (f.key, f.label_zh, f.label_en):
            out[normalise_header(name)] = f.key
    return out


def custom_cells(crm: Crm, entity: str, raw: dict[str, Any],
                 row: int | None) -> tuple[dict[str, Any], list[FieldError]]:
    """The `custom` column of one imported row from the custom fields the file names, or
    the row's errors (none stored then)."""
    keys = {f.key for f in custom_fields(crm, entity)}
    given = {k: v for k, v in raw.items() if k in keys}
    if not given:
        return {}, []
    try:
        return stored_for_new(crm, entity, given, row=row, require_all=False), []
    except ValidationFailed as exc:
        return {}, list(exc.errors)
