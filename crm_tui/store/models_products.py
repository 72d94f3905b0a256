"""The catalogue's tables: products, prices, exchange rates."""

from __future__ import annotations
