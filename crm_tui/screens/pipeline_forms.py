"""The sales dialogs: a form built from the field registry (new lead, needs and risk
questionnaires), product choice from the matching list, the lost reason and the board's
filter. Each runs its one domain call through `call_domain`; field errors land under
their fields."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rich.text import Text
from textual.widget import Widget
from textual.widgets import Checkbox, Input, OptionList, Select, SelectionList, Static
from textual.widgets.option_list import Option

from crm_tui.i18n import render, t
from crm_tui.screens.form_modal import FormModal
from crm_tui.widgets.custom_fields_section import CustomFieldsSection
from crm_tui.widgets.form_field import FormField


def _checked(fn: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """Run `fn`; a ValidationFailed comes back as ("invalid", {field: message})."""
    from crm_tui.domain.kernel.errors import ValidationFailed

    try:
        return "ok", fn(*args)
    except ValidationFailed as exc:
        return "invalid", exc.by_field()


class DomainForm(FormModal[Any]):
    """A form whose submit is one domain call: `perform(values)` in a worker."""

    def perform(self, values: dict[str, Any]) -> Any:
        raise NotImplementedError

    def values(self) -> dict[str, Any]:
        raise NotImplementedError

    def submit(self) -> None:
        self.call_domain(_checked, self.perform, self.values(), on_done=self._done,
                         on_error=lambda text: self.failed(None, text), group="form", block=True)

    def _done(self, outcome: tuple[str, Any]) -> None:
        kind, value = outcome
        if kind == "ok":
            self.dismiss(value if value is not None else True)
        else:
            self.failed(value)


class RegistryForm(DomainForm):
    """Fields from `kernel.fields` for `entity` (optionally only some keys)."""

    def __init__(self, title: str, entity: str, perform: Callable[[dict[str, Any]], Any],
                 only: Iterable[str] | None = None, custom: bool = False) -> None:
        super().__init__(title)
        self.custom = entity if custom else None  # the entity's custom fields follow
        from crm_tui.domain.kernel.fields import fields_of

        keys = set(only) if only is not None else None
        self.specs = [s for s in fields_of(entity) if keys is None or s.key in keys]
        self._perform = perform

    def perform(self, values: dict[str, Any]) -> Any:
        return self._perform(values)

    def fields(self) -> Iterable[Widget]:
        for s in self.specs:
            label = t(s.label_key) + (" *" if s.required else "")
            wid = f"f-{s.key}"
            if s.type == "choice":
                control: Widget = Select([(t(f"{s.choice_prefix}.{c}"), c) for c in s.choices],
                                         id=wid, compact=True, allow_blank=not s.required,
                                         value=s.choices[0] if s.required else Select.BLANK)
            elif s.type == "multi_choice":
                control = SelectionList[str](*[(t(f"{s.choice_prefix}.{c}"), c) for c in s.choices],
                                             id=wid, compact=True)
            else:
                control = Input(id=wid, compact=True,
                                placeholder=t(s.help_key) if s.help_key else "")
            yield FormField(s.key, label, control)
        if self.custom:
            yield CustomFieldsSection(self.custom)

    def on_mount(self) -> None:
        first = self.query(".form-body Input, .form-body Select, .form-body SelectionList").first()
        first.focus()

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for s in self.specs:
            control = self.query_one(f"#f-{s.key}")
            if isinstance(control, SelectionList):
                out[s.key] = list(control.selected)
            elif isinstance(control, Select):
                out[s.key] = control.value if isinstance(control.value, str) else ""
            elif isinstance(control, Input):
                out[s.key] = control.value
        if self.custom:
            out["custom"] = self.query_one(CustomFieldsSection).values()
        return out


class ProductForm(DomainForm):
    """The matching list (fits first, each with its reason; blocked ones greyed and not
    selectable) and the amount."""

    def __init__(self, title: str, opp_id: int, matches: list[Any]) -> None:
        super().__init__(title)
        self.opp_id = opp_id
        self.matches = matches

    def fields(self) -> Iterable[Widget]:
        options = []
        for m in self.matches:
            text = Text(f"{m.code}  {m.name}  {m.risk_level}\n", style="dim" if not m.fits else "")
            style = "dim italic" if m.blocked else "green" if m.fits else "yellow"
            text.append(render(m.reason), style=style)
            options.append(Option(text, id=m.code, disabled=m.blocked))
        yield Static(t("tui.pipeline.match_hint"), classes="form-notice")
        yield FormField("product_code", t("field.product_code"),
                        OptionList(*options, id="match-list"))
        yield FormField("amount", t("field.amount") + " *", Input(id="f-amount", compact=True))
        yield Checkbox(t("tui.pipeline.more.add_line"), id="f-add-line", compact=True)

    def on_mount(self) -> None:
        self.query_one("#match-list", OptionList).focus()

    def values(self) -> dict[str, Any]:
        ol = self.query_one("#match-list", OptionList)
        code = ""
        if ol.highlighted is not None:
            code = ol.get_option_at_index(ol.highlighted).id or ""
        return {"product_code": code, "amount": self.query_one("#f-amount", Input).value,
                "add_line": self.query_one("#f-add-line", Checkbox).value}

    def perform(self, values: dict[str, Any]) -> Any:
        from crm_tui.domain.sales.lines import set_lines
        from crm_tui.domain.sales.opportunities import choose_product

        if values["add_line"]:  # one more product line, after the ones already chosen
            set_lines(self.crm, self.actor, self.opp_id,
                      [(values["product_code"], values["amount"])], append=True)
        else:
            choose_product(self.crm, self.actor, self.opp_id, values["product_code"],
                           values["amount"])
        return values["product_code"]


class LostForm(DomainForm):
    def __init__(self, title: str, opp_id: int, reasons: list[str]) -> None:
        super().__init__(title)
        self.opp_id, self.reasons = opp_id, reasons

    def fields(self) -> Iterable[Widget]:
        yield FormField("lost_reason", t("field.lost_reason"), Select(
            [(t(f"sales.lost.{r}"), r) for r in self.reasons], value=self.reasons[0],
            allow_blank=False, id="f-lost", compact=True))

    def values(self) -> dict[str, Any]:
        value = self.query_one("#f-lost", Select).value
        return {"reason": value if isinstance(value, str) else ""}

    def perform(self, values: dict[str, Any]) -> Any:
        from crm_tui.domain.sales.opportunities import move

        return move(self.crm, self.actor, self.opp_id, "lost", reason=values["reason"])


class FilterForm(DomainForm):
    """Owner, team, product and period, then the filterable custom fields (`key = value`,
    blank: any). Dismisses with (built-in values, custom values typed, the BoardFilter)."""

    SUBMIT_LABEL = "tui.pipeline.apply_filter"
    KEYS = ("owner", "team", "product_code", "period_days")

    def __init__(self, title: str, current: dict[str, str], custom: tuple[Any, ...] = (),
                 custom_current: dict[str, str] | None = None) -> None:
        super().__init__(title)
        self.current = current
        self.custom, self.custom_current = custom, custom_current or {}

    def fields(self) -> Iterable[Widget]:
        from crm_tui.i18n import language

        for key in self.KEYS:
            yield FormField(key, t(f"field.{key}"), Input(self.current.get(key, ""),
                                                          id=f"f-{key}", compact=True))
        if self.custom:
            yield Static(t("tui.forms.panel_title"), classes="form-notice")
        lang = language()
        for f in self.custom:
            yield FormField(f.key, f.label(lang), Input(
                self.custom_current.get(f.key, ""), id=f"cff-{f.key}", compact=True,
                placeholder=", ".join(f.spec.choices) if f.spec.choices else ""))

    def on_mount(self) -> None:
        self.query_one("#f-owner", Input).focus()

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: self.query_one(f"#f-{k}", Input).value for k in self.KEYS}
        typed = {f.key: self.query_one(f"#cff-{f.key}", Input).value.strip()
                 for f in self.custom}
        out["custom"] = {k: v for k, v in typed.items() if v}
        return out

    def perform(self, values: dict[str, Any]) -> Any:
        from dataclasses import replace

        from crm_tui.domain.forms.filters import parse_filters
        from crm_tui.domain.kernel.errors import ValidationFailed
        from crm_tui.domain.sales.board import parse_filter

        typed = values.pop("custom")
        errors = []
        try:
            board = parse_filter(values["owner"], values["team"], values["product_code"],
                                 values["period_days"])
        except ValidationFailed as exc:
            errors += exc.errors
        try:
            custom = parse_filters(self.crm, "opportunity", typed) if typed else ()
        except ValidationFailed as exc:
            errors += exc.errors
        if errors:
            raise ValidationFailed(errors)
        return values, typed, replace(board, custom=custom)


class TextForm(DomainForm):
    """One text (a user name to reassign to, a contact note) and one call."""

    def __init__(self, title: str, field: str, perform: Callable[[str], Any]) -> None:
        super().__init__(title)
        self.field, self._perform = field, perform

    def fields(self) -> Iterable[Widget]:
        yield FormField(self.field, t(f"field.{self.field}"), Input(id="f-text", compact=True))

    def on_mount(self) -> None:
        self.query_one("#f-text", Input).focus()

    def values(self) -> dict[str, Any]:
        return {"text": self.query_one("#f-text", Input).value}

    def perform(self, values: dict[str, Any]) -> Any:
        return self._perform(values["text"])


class FeedbackForm(DomainForm):
    """The customer's reaction to the latest proposal as presented."""

    def __init__(self, title: str, opp_id: int) -> None:
        super().__init__(title)
        self.opp_id = opp_id

    def fields(self) -> Iterable[Widget]:
        from crm_tui.domain.sales.proposals import REACTIONS

        yield FormField("reaction", t("field.reaction"), Select(
            [(t(f"sales.reaction.{r}"), r) for r in REACTIONS], value="neutral",
            allow_blank=False, id="f-reaction", compact=True))
        yield FormField("feedback", t("field.feedback"), Input(id="f-feedback", compact=True))

    def values(self) -> dict[str, Any]:
        value = self.query_one("#f-reaction", Select).value
        return {"reaction": value if isinstance(value, str) else "",
                "feedback": self.query_one("#f-feedback", Input).value}

    def perform(self, values: dict[str, Any]) -> Any:
        from crm_tui.domain.kernel.errors import Blocked
        from crm_tui.domain.sales.proposals import proposals_of, record_feedback

        latest = proposals_of(self.crm, self.actor, self.opp_id)
        if not latest:
            raise Blocked("sales.move.proposal_missing")
        record_feedback(self.crm, self.actor, latest[0].id, values["reaction"], values["feedback"])
        return latest[0].id
