"""The sales pipeline's tables: leads, opportunities and their stage history, questionnaires, proposals."""

from __future__ import annotations
