"""The form engine: custom fields that admins define without code (definitions, their
versions and audit, pattern safety, the per-database registry that plugs them into the
field registry beside the built-in fields, and the pydantic model built from it)."""
