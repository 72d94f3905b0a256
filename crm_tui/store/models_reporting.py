"""Reporting: sales targets and saved report definitions."""

from __future__ import annotations
