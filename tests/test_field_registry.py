"""The field registry core: one declaration per field, validated the same everywhere."""

from __future__ import annotations

from decimal import Decimal

from crm_tui.domain.kernel import fields as F


def _specs() -> list[F.FieldSpec]:
    return [
        F.FieldSpec("title", "field.name", required=True, max_length=5),
        F.FieldSpec("amount", "field.aum", type="money", max_value=Decimal("1000")),
        F.FieldSpec("count", "field.aum", type="number", min_value=Decimal(1)),
        F.FieldSpec("urgent", "field.aum", type="bool"),
        F.FieldSpec("level", "field.aum", type="choice", choices=("a", "b")),
        F.FieldSpec("tags", "field.aum", type="multi_choice", choices=("x", "y")),
        F.FieldSpec("code", "field.aum", type="code", pattern=r"[A-Z]{2}\d{2}", aliases=("编码",)),
    ]


def test_clean_reports_every_problem_with_its_rule() -> None:
    F.register("_t", _specs())
    values, errors = F.clean("_t", {"title": "abcdef", "amount": "2000", "count": "0",
                                    "urgent": "maybe", "level": "c", "tags": "x,z",
                                    "code": "ab1"}, row=7)
    assert values == {}
    assert {(e.field, e.key, e.row) for e in errors} == {
        ("title", "validation.too_long", 7), ("amount", "validation.max", 7),
        ("count", "validation.min", 7), ("urgent", "validation.bool", 7),
        ("level", "validation.choice", 7), ("tags", "validation.choice", 7),
        ("code", "validation.pattern", 7)}
    values, errors = F.clean("_t", {"title": " 张三 ", "amount": "12.50", "count": "3",
                                    "urgent": "是", "level": "b", "tags": "x，y", "code": "ab12"})
    assert errors == []
    assert values == {"title": "张三", "amount": Decimal("12.50"), "count": 3, "urgent": True,
                      "level": "b", "tags": ["x", "y"], "code": "AB12"}
    _, errors = F.clean("_t", {}, only=["title", "nope"])
    assert [(e.field, e.key) for e in errors] == [("title", "validation.required"),
                                                   ("nope", "validation.not_editable")]


def test_header_map_takes_keys_aliases_and_labels() -> None:
    F.register("_t", _specs())
    labels = {"field.aum": ["AUM", "资产规模"], "field.name": ["Name", "姓名"]}
    m = F.header_map("_t", lambda k: labels.get(k, []))
    assert m[F.normalise_header("编码")] == "code"
    assert m[F.normalise_header(" Title ")] == "title"
    assert m[F.normalise_header("姓名")] == "title"
