"""Personal-information rights: rights requests, the access log, the consent ledger, retention."""

from __future__ import annotations
