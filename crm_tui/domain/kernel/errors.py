"""Typed domain errors. Each carries a catalog key, so the TUI and the CLI show the same words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crm_tui.i18n import LANGUAGES, catalog, t

# The one door from the domain to the catalog: errors render their own line, and files the
# domain writes for a person (exports, rejects) take labels through `translate`.
translate = t


def catalog_labels(key: str) -> tuple[str, ...]:
    """The text of `key` in every catalog language (import headers accept any of them)."""
    return tuple(dict.fromkeys(text for lang in LANGUAGES if (text := catalog(lang).get(key))))


class DomainError(Exception):
    key = "error.generic"

    def __init__(self, key: str | None = None, /, **params: Any) -> None:
        self.key = key or type(self).key
        self.params = params
        super().__init__(self.key)

    @property
    def message(self) -> str:
        return t(self.key, **self.params)

    def __str__(self) -> str:
        return self.message


class PermissionDenied(DomainError):
    key = "error.permission_denied"


class NotFound(DomainError):
    key = "error.not_found"


class Conflict(DomainError):
    """Optimistic-lock conflict: someone else saved the record first."""

    key = "error.conflict"


class AuthFailed(DomainError):
    key = "error.auth_failed"


class AccountLocked(DomainError):
    key = "error.account_locked"


class PolicyInvalid(DomainError):
    key = "error.policy_invalid"


class Blocked(DomainError):
    """A rule refuses the operation (KYC incomplete, unsuitable product, frozen customer...)."""

    key = "error.blocked"


@dataclass(frozen=True)
class FieldError:
    field: str
    key: str
    params: dict[str, Any]
    row: int | None = None
    labels: tuple[str, str] | None = None
    """(zh, en) labels of a field the catalog does not know (a custom field)."""

    @property
    def message(self) -> str:
        return t(self.key, **self.params)

    def line(self) -> str:
        """`row N: field: reason` for imports, `field: reason` otherwise."""
        if self.labels is not None:
            from crm_tui.i18n import language

            label = self.labels[1] if language() == "en" else self.labels[0]
        else:
            label = t(f"field.{self.field}") if self.field else ""
        head = f"{t('import.row', row=self.row)}: " if self.row is not None else ""
        return f"{head}{label}: {self.message}" if label else f"{head}{self.message}"


class ValidationFailed(DomainError):
    key = "error.validation"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(self.key, count=len(errors))
        self.errors = errors

    @property
    def message(self) -> str:
        return "; ".join(e.line() for e in self.errors)

    def by_field(self) -> dict[str, str]:
        return {e.field: e.message for e in self.errors}
