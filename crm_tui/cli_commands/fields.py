"""`crm fields add|list|edit|retire|history`: custom fields that admins define (form engine)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from crm_tui.cli_commands.base import DbOption, JsonOption, group, out, print_json, print_table, store
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.i18n import t

Entity = Annotated[str, typer.Argument(metavar="ENTITY", help=t("forms.cli.opt_entity"))]
Key = Annotated[str, typer.Argument(metavar="KEY")]
FieldFilters = Annotated[list[str] | None, typer.Option(
    "--field", metavar="KEY=VALUE", help=t("forms_values.cli.opt_field"), show_default=False)]
"""`--field KEY=VALUE` (repeatable) on the list commands: filterable custom fields."""


def with_custom(crm: Any, entity: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each JSON row with its record's `custom` object (active fields; sensitive masked)."""
    from crm_tui.domain.forms.values import custom_json_by_id

    found = custom_json_by_id(crm, entity, [r["id"] for r in rows])
    return [{**r, "custom": found.get(r["id"], {})} for r in rows]


def custom_filters(crm: Any, entity: str, items: list[str] | None) -> tuple[Any, ...]:
    from crm_tui.domain.forms.filters import parse_filters

    return parse_filters(crm, entity, items) if items else ()


def _opt(name: str, help_key: str) -> Any:
    return typer.Option(name, help=t(help_key), show_default=False)


def _attrs(type_: str | None, label_zh: str | None, label_en: str | None, required: bool | None,
           choices: str | None, pattern: str | None, min_: str | None, max_: str | None,
           help_text: str | None, section: str | None, sensitive: bool | None,
           filterable: bool | None) -> dict[str, Any]:
    raw = {"type": type_, "label_zh": label_zh, "label_en": label_en, "required": required,
           "pattern": pattern, "min_value": min_, "max_value": max_, "section": section,
           "sensitive": sensitive, "filterable": filterable}
    if choices is not None:
        raw["choices"] = [c.strip() for c in choices.replace("，", ",").split(",") if c.strip()]
    if help_text is not None:
        raw["help_zh"] = raw["help_en"] = help_text
    return {k: v for k, v in raw.items() if v is not None}


# The attribute options `add` and `edit` share (declared once).
TypeOpt = Annotated[str | None, _opt("--type", "forms.cli.opt_type")]
LabelZh = Annotated[str | None, _opt("--label-zh", "forms.cli.opt_label_zh")]
LabelEn = Annotated[str | None, _opt("--label-en", "forms.cli.opt_label_en")]
Choices = Annotated[str | None, _opt("--choices", "forms.cli.opt_choices")]
Pattern = Annotated[str | None, _opt("--pattern", "forms.cli.opt_pattern")]
Min = Annotated[str | None, _opt("--min", "forms.cli.opt_min")]
Max = Annotated[str | None, _opt("--max", "forms.cli.opt_max")]
HelpText = Annotated[str | None, _opt("--help-text", "forms.cli.opt_help_text")]
Section = Annotated[str | None, _opt("--section", "forms.cli.opt_section")]


def _submit(change: str, entity: str, key: str, attrs: dict[str, Any], json_out: bool,
            db: Any, done: str) -> None:
    """Apply the change, or open its request when the policy sends definitions to approval."""
    from crm_tui.domain.compliance.field_definition_changes import submit_field_change

    with store(db) as crm:
        sub = submit_field_change(crm, system_actor(), change, entity, key, attrs)
    if sub.view is None:
        if json_out:
            print_json({"request_id": sub.request_id})
        else:
            out(t("forms_values.requested", id=sub.request_id, entity=entity, key=key))
    elif json_out:
        print_json(_row(sub.view))
    else:
        out(t(done, entity=sub.view.entity, key=sub.view.key, version=sub.view.version))


def _row(f: Any) -> dict[str, Any]:
    return {"entity": f.entity, "key": f.key, "type": f.type, "label_zh": f.label_zh,
            "label_en": f.label_en, "required": f.required, "choices": list(f.choices),
            "pattern": f.pattern, "min": f.min_value, "max": f.max_value,
            "help_zh": f.help_zh, "help_en": f.help_en, "section": f.section,
            "position": f.position, "sensitive": f.sensitive, "filterable": f.filterable,
            "status": f.status, "version": f.version, "updated_at": f.updated_at}


def register(app: typer.Typer) -> None:
    fields_app = group(app, "fields", t("forms.cli.help"))

    @fields_app.command("add", help=t("forms.cli.add_help"))
    def add(
        entity: Entity, key: Key, type_: TypeOpt = "text", label_zh: LabelZh = None,
        label_en: LabelEn = None,
        required: Annotated[bool, _opt("--required", "forms.cli.opt_required")] = False,
        choices: Choices = None, pattern: Pattern = None, min_: Min = None, max_: Max = None,
        help_text: HelpText = None, section: Section = None,
        sensitive: Annotated[bool, _opt("--sensitive", "forms.cli.opt_sensitive")] = False,
        filterable: Annotated[bool, _opt("--filterable", "forms.cli.opt_filterable")] = False,
        json_out: JsonOption = False, db: DbOption = None,
    ) -> None:
        attrs = _attrs(type_, label_zh, label_en, required, choices, pattern, min_, max_,
                       help_text, section, sensitive, filterable)
        _submit("add", entity, key, attrs, json_out, db, "forms.cli.added")

    @fields_app.command("edit", help=t("forms.cli.edit_help"))
    def edit(
        entity: Entity, key: Key, type_: TypeOpt = None, label_zh: LabelZh = None,
        label_en: LabelEn = None,
        required: Annotated[bool | None,
                            _opt("--required/--optional", "forms.cli.opt_required")] = None,
        choices: Choices = None, pattern: Pattern = None, min_: Min = None, max_: Max = None,
        help_text: HelpText = None, section: Section = None,
        filterable: Annotated[bool | None,
                              _opt("--filterable/--not-filterable", "forms.cli.opt_filterable")] = None,
        json_out: JsonOption = False, db: DbOption = None,
    ) -> None:
        attrs = _attrs(type_, label_zh, label_en, required, choices, pattern, min_, max_,
                       help_text, section, None, filterable)
        _submit("edit", entity, key, attrs, json_out, db, "forms.cli.edited")

    @fields_app.command("retire", help=t("forms.cli.retire_help"))
    def retire(entity: Entity, key: Key, db: DbOption = None) -> None:
        _submit("retire", entity, key, {}, False, db, "forms.cli.retired")

    @fields_app.command("list", help=t("forms.cli.list_help"))
    def list_(
        entity: Annotated[str | None, typer.Argument(metavar="[ENTITY]",
                                                     help=t("forms.cli.opt_entity"))] = None,
        all_: Annotated[bool, _opt("--all", "forms.cli.opt_all")] = False,
        json_out: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        from crm_tui.domain.forms.definitions import list_fields
        from crm_tui.i18n import language

        with store(db) as crm:
            rows = list_fields(crm, system_actor(), entity, include_retired=all_)
        if json_out:
            print_json([_row(f) for f in rows])
            return
        if not rows:
            out(t("forms.cli.none"))
            return
        en = language() == "en"
        print_table(
            [t(f"forms.cli.col_{c}") for c in ("entity", "key", "type", "label", "flags",
                                                "status", "version")],
            [[f.entity, f.key, f.type, f.label_en if en else f.label_zh,
              " ".join(t(f"forms.cli.flag_{flag}") for flag in ("required", "sensitive",
                                                                 "filterable")
                       if getattr(f, flag)),
              t(f"forms.cli.status_{f.status}"), str(f.version)] for f in rows])

    @fields_app.command("history", help=t("forms.cli.history_help"))
    def history(entity: Entity, key: Key, db: DbOption = None) -> None:
        from crm_tui.domain.forms.definitions import field_history
        from crm_tui.domain.forms.review import describe_change
        from crm_tui.i18n.words import say

        with store(db) as crm:
            rows = field_history(crm, system_actor(), entity, key)
        before = None
        for row in rows:  # each version in words against the one before it
            row["changes"] = [say(k, p) for k, p in describe_change(before, row["definition"])]
            before = row["definition"]
        print_json(rows)
