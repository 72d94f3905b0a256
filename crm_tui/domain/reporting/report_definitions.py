"""A saved report's definition: which records (entity and filters), grouped by what
(dimensions), measured how (count, sum, average, rate), as pydantic models read from and
written to TOML.

The shape is checked here (unknown keys, wrong types, a bad name); what the names mean (does
the entity have that field, can it be summed) is checked against the field catalog by
`report_sql.compile_report`, because custom fields live in the database. Every problem comes
back as a `FieldError` whose field is the definition's own path (`measures[1].field`), so a
file's author reads `measures[1].field: “name” is text; sum needs a number`.

    name = "aum-by-tier"             # how `crm report run` names it
    title_zh = "各层级资产规模"
    title_en = "AUM by tier"
    entity = "customers"             # customers, opportunities, tickets, leads, trades, holdings
    dimensions = ["tier", "created_at:year"]
    measures = ["count", "sum:aum", { fn = "rate", when = [{ field = "status", value = "active" }] }]
    filters = [{ field = "kind", op = "eq", value = "individual" }]
    sort = "-sum_aum"                # a dimension or measure key; "-" for descending
    limit = 20
    chart = "bar"                    # bar, line or none
"""

from __future__ import annotations

import tomllib
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from crm_tui.domain.kernel.errors import FieldError, ValidationFailed

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,59}$"
KEY_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
MAX_ROWS = 5000
"""The most groups a report returns; a definition's `limit` may ask for fewer."""
OPS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between", "is_null", "not_null",
       "contains", "last_days")
FNS = ("count", "sum", "avg", "rate")
CHARTS = ("bar", "line", "none")


class Condition(BaseModel):
    """`field op value`: a filter, or the condition a rate counts."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(min_length=1, max_length=80)
    op: Literal[OPS] = "eq"  # type: ignore[valid-type]
    value: Any = None


class Measure(BaseModel):
    """count, sum:<field>, avg:<field>, or a rate: the share of rows meeting `when`, among
    those meeting `of` (all rows when `of` is empty)."""

    model_config = ConfigDict(extra="forbid")

    fn: Literal[FNS]  # type: ignore[valid-type]
    field: str | None = Field(default=None, min_length=1, max_length=80)
    when: list[Condition] = Field(default_factory=list, max_length=10)
    of: list[Condition] = Field(default_factory=list, max_length=10)
    key: str | None = Field(default=None, pattern=KEY_PATTERN)
    label_zh: str | None = Field(default=None, min_length=1, max_length=60)
    label_en: str | None = Field(default=None, min_length=1, max_length=60)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        """"count", "sum:aum" and "avg:aum" stand for the table forms."""
        if isinstance(data, str):
            fn, _, field = data.partition(":")
            return {"fn": fn.strip(), **({"field": field.strip()} if field.strip() else {})}
        return data

    def default_key(self, index: int) -> str:
        if self.key:
            return self.key
        if self.fn == "count":
            return "count"
        if self.fn == "rate":
            return f"rate_{index + 1}"
        return f"{self.fn}_{(self.field or '').replace('.', '_').replace(':', '_')}"

    def shorthand(self) -> str | dict[str, Any]:
        plain = not (self.when or self.of or self.key or self.label_zh or self.label_en)
        if plain and self.fn != "rate":
            return self.fn if self.field is None else f"{self.fn}:{self.field}"
        return self.model_dump(exclude_none=True, exclude_defaults=True) | {"fn": self.fn}


class ReportDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(pattern=NAME_PATTERN)
    title_zh: str = Field(min_length=1, max_length=80)
    title_en: str = Field(min_length=1, max_length=80)
    description_zh: str = Field(default="", max_length=400)
    description_en: str = Field(default="", max_length=400)
    entity: str = Field(min_length=1, max_length=40)
    dimensions: list[str] = Field(default_factory=list, max_length=3)
    measures: list[Measure] = Field(min_length=1, max_length=8)
    filters: list[Condition] = Field(default_factory=list, max_length=20)
    sort: str | None = Field(default=None, min_length=1, max_length=90)
    limit: int | None = Field(default=None, ge=1, le=MAX_ROWS)
    chart: Literal[CHARTS] = "bar"  # type: ignore[valid-type]

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh

    def measure_keys(self) -> list[str]:
        return [m.default_key(i) for i, m in enumerate(self.measures)]


def path_of(loc: tuple[Any, ...]) -> str:
    """("measures", 1, "field") → "measures[1].field"."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "report"


def problem(path: str, msg_key: str, /, **params: Any) -> FieldError:
    """A definition problem named by its path (`filters[0].value`), shown as it is written."""
    return FieldError(path, msg_key, params, labels=(path, path))


_PYDANTIC_KEYS = {
    "missing": "reports.error.missing",
    "extra_forbidden": "reports.error.unknown_key",
    "literal_error": "reports.error.choice",
    "string_pattern_mismatch": "reports.error.pattern",
    "string_too_short": "reports.error.too_short",
    "too_short": "reports.error.too_short",
    "string_too_long": "reports.error.too_long",
    "too_long": "reports.error.too_long",
    "greater_than_equal": "reports.error.range_min",
    "less_than_equal": "reports.error.range_max",
    "int_parsing": "reports.error.integer",
    "int_type": "reports.error.integer",
    "string_type": "reports.error.text",
    "list_type": "reports.error.list",
}


def _problems(exc: ValidationError) -> list[FieldError]:
    out = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not str(p).startswith(("function-", "str", "dict")))
        ctx = err.get("ctx") or {}
        key = _PYDANTIC_KEYS.get(err["type"], "reports.error.invalid")
        out.append(problem(path_of(loc), key, expected=str(ctx.get("expected", "")),
                           detail=str(err["msg"]).removeprefix("Value error, "),
                           min=ctx.get("min_length", ctx.get("ge", "")),
                           max=ctx.get("max_length", ctx.get("le", ""))))
    return out


def parse_definition(data: Any) -> ReportDefinition:
    """The definition in `data` (a dict, as read from TOML), or every shape problem at once."""
    if not isinstance(data, dict):
        raise ValidationFailed([problem("report", "reports.error.not_table")])
    try:
        return ReportDefinition.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(_problems(exc)) from None


def parse_toml(text: str) -> ReportDefinition:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed([problem("toml", "reports.error.toml", detail=str(exc))]) from None
    return parse_definition(data)


def to_toml(d: ReportDefinition) -> str:
    """The definition as a TOML file an admin can read, edit and import again."""
    data: dict[str, Any] = {"name": d.name, "title_zh": d.title_zh, "title_en": d.title_en}
    if d.description_zh:
        data["description_zh"] = d.description_zh
    if d.description_en:
        data["description_en"] = d.description_en
    data["entity"] = d.entity
    data["dimensions"] = list(d.dimensions)
    data["measures"] = [m.shorthand() for m in d.measures]
    if d.filters:
        data["filters"] = [c.model_dump(exclude_none=True) for c in d.filters]
    if d.sort:
        data["sort"] = d.sort
    if d.limit:
        data["limit"] = d.limit
    data["chart"] = d.chart
    return tomli_w.dumps(data)
