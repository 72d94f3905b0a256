"""The SSH front door's tables: staff public keys and SSH sessions."""

from __future__ import annotations
