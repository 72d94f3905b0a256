"""The policy document (process engine): its pydantic schema, the active version, and changes
to it, which go through compliance approval."""
