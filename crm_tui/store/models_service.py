"""The service desk's tables: tickets and their SLA clocks, complaints, periodic reviews, the outbox."""

from __future__ import annotations
