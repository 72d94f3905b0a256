"""What an admin may set on a custom field's definition, checked before anything is
stored: the attributes (pydantic), and the rules between them (a choice field needs
choices, a pattern only on text and never one that can backtrack catastrophically, bounds
only on numbers, a sensitive field is never filterable)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from crm_tui.domain.forms.patterns import check_pattern
from crm_tui.domain.forms.registry import TYPES
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
from crm_tui.domain.kernel.validation import BadValue, normalise_text


class FieldInput(BaseModel):
    """What an admin may set on a definition; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: str = "text"
    label_zh: str = Field(min_length=1, max_length=60)
    label_en: str = Field(min_length=1, max_length=60)
    required: bool = False
    choices: list[str] = Field(default_factory=list, max_length=200)
    pattern: str | None = None
    min_value: str | None = None
    max_value: str | None = None
    help_zh: str = Field(default="", max_length=200)
    help_en: str = Field(default="", max_length=200)
    section: str = Field(default="custom", min_length=1, max_length=40)
    position: int = Field(default=0, ge=0, le=9999)
    sensitive: bool = False
    filterable: bool = False

    @field_validator("type")
    @classmethod
    def _type(cls, v: str) -> str:
        if v not in TYPES:
            raise ValueError(f"must be one of {', '.join(TYPES)}")
        return v

    @field_validator("choices")
    @classmethod
    def _choices(cls, v: list[str]) -> list[str]:
        out = [normalise_text(c) for c in v if normalise_text(c)]
        if len(set(out)) != len(out):
            raise ValueError("choices repeat")
        if any(len(c) > 60 for c in out):
            raise ValueError("a choice is longer than 60 characters")
        return out

    @field_validator("min_value", "max_value")
    @classmethod
    def _number(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        try:
            d = Decimal(v)
        except InvalidOperation:
            raise ValueError(f"{v!r} is not a number") from None
        if not d.is_finite() or abs(d) > Decimal("1e15"):
            raise ValueError(f"{v!r} is out of range")
        return str(d)


def errors_of(exc: ValidationError) -> ValidationFailed:
    return ValidationFailed([
        FieldError(str(e["loc"][0]) if e["loc"] else "field", "forms.error.invalid",
                   {"detail": str(e["msg"]).removeprefix("Value error, ")})
        for e in exc.errors()])


def check_input(entity: str, values: FieldInput) -> None:
    problems: list[FieldError] = []
    if values.type in ("choice", "multi_choice") and not values.choices:
        problems.append(FieldError("choices", "forms.error.choices_needed", {}))
    if values.type not in ("choice", "multi_choice") and values.choices:
        problems.append(FieldError("choices", "forms.error.choices_unused", {}))
    if values.pattern:
        if values.type != "text":
            problems.append(FieldError("pattern", "forms.error.pattern_text_only", {}))
        else:
            try:
                check_pattern(values.pattern)
            except BadValue as exc:
                problems.append(FieldError("pattern", exc.key, exc.params))
    if (values.min_value or values.max_value) and values.type not in ("number", "decimal"):
        problems.append(FieldError("min_value", "forms.error.bounds_numeric_only", {}))
    if (values.min_value and values.max_value
            and Decimal(values.min_value) > Decimal(values.max_value)):
        problems.append(FieldError("min_value", "forms.error.bounds_order", {}))
    if values.sensitive and values.filterable:
        problems.append(FieldError("filterable", "forms.error.sensitive_filter", {}))
    if problems:
        raise ValidationFailed(problems)
