"""The form engine's tables: custom field definitions and their versions."""

from __future__ import annotations
