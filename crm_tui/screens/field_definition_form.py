"""Defining or changing one custom field: the same attributes as `crm fields add|edit`,
with each refusal under the field it names (a bad pattern, missing choices, …)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.widget import Widget
from textual.widgets import Input, Select, Switch

from crm_tui.i18n import t
from crm_tui.screens.form_modal import FormModal
from crm_tui.widgets.form_field import FormField

if TYPE_CHECKING:
    from crm_tui.domain.forms.definitions import FieldView

ENTITIES = ("customer", "lead", "opportunity", "ticket")
TYPES = ("text", "number", "decimal", "date", "bool", "choice", "multi_choice")
TEXTS = ("label_zh", "label_en", "choices", "pattern", "min_value", "max_value", "help_zh",
         "section")


class FieldDefinitionForm(FormModal[str | None]):
    def __init__(self, field: FieldView | None) -> None:
        super().__init__(t("tui.forms.define_title") if field is None
                         else t("tui.forms.change_title", entity=field.entity, key=field.key))
        self.field = field

    def fields(self) -> Iterable[Widget]:
        f = self.field
        if f is None:
            yield FormField("entity", t("field.entity"),
                            Select([(t(f"tui.forms.entity.{e}"), e) for e in ENTITIES],
                                   value="customer", allow_blank=False, id="fd-entity"))
            yield FormField("key", t("field.key"), Input(placeholder="wechat_id", id="fd-key"))
        yield FormField("type", t("field.type"),
                        Select([(t(f"tui.forms.type.{ty}"), ty) for ty in TYPES],
                               value=f.type if f else "text", allow_blank=False, id="fd-type"))
        values = {
            "label_zh": f.label_zh if f else "", "label_en": f.label_en if f else "",
            "choices": ", ".join(f.choices) if f else "", "pattern": (f.pattern or "") if f else "",
            "min_value": (f.min_value or "") if f else "", "max_value": (f.max_value or "") if f else "",
            "help_zh": f.help_zh if f else "", "section": f.section if f else "custom",
        }
        for name in TEXTS:
            yield FormField(name, t(f"tui.forms.attr.{name}"),
                            Input(value=values[name], id=f"fd-{name}"))
        yield FormField("required", t("tui.forms.attr.required"),
                        Switch(value=bool(f and f.required), id="fd-required"))
        if f is None:
            yield FormField("sensitive", t("field.sensitive"), Switch(value=False, id="fd-sensitive"))
        yield FormField("filterable", t("field.filterable"),
                        Switch(value=bool(f and f.filterable), id="fd-filterable"))

    def _attrs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.query_one("#fd-type", Select).value}
        for name in TEXTS:
            out[name] = self.query_one(f"#fd-{name}", Input).value.strip()
        out["choices"] = [c.strip() for c in out["choices"].replace("，", ",").split(",") if c.strip()]
        for name in ("pattern", "min_value", "max_value"):
            out[name] = out[name] or None
        out["help_en"] = out["help_zh"]
        out["required"] = self.query_one("#fd-required", Switch).value
        out["filterable"] = self.query_one("#fd-filterable", Switch).value
        if self.field is None:
            out["sensitive"] = self.query_one("#fd-sensitive", Switch).value
        return out

    def submit(self) -> None:
        from crm_tui.domain.compliance.field_definition_changes import submit_field_change
        from crm_tui.domain.kernel.errors import ValidationFailed

        attrs = self._attrs()
        crm, actor, field = self.crm, self.actor, self.field
        entity = field.entity if field else str(self.query_one("#fd-entity", Select).value)
        key = field.key if field else self.query_one("#fd-key", Input).value

        def attempt() -> tuple[str, dict[str, str]]:
            try:
                sub = submit_field_change(crm, actor, "add" if field is None else "edit",
                                          entity, key, attrs)
                if sub.view is None:  # the policy sends definition changes to approval
                    return t("forms_values.requested", id=sub.request_id, entity=entity,
                             key=key), {}
                v = sub.view
                done = "forms.cli.added" if field is None else "forms.cli.edited"
                return t(done, entity=v.entity, key=v.key, version=v.version), {}
            except ValidationFailed as exc:
                return "", exc.by_field()

        self.call_domain(attempt, group="save", block=True, on_done=self._saved,
                         on_error=lambda text: self.failed(None, text))

    def _saved(self, result: tuple[str, dict[str, str]]) -> None:
        text, errors = result
        if errors:
            self.failed(errors)
            return
        self.dismiss(text)
