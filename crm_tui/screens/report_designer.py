"""The report designer: pick the records (entity), up to three dimensions to group by, up to
three measures (count, sum, average, a rate with its condition), filters as short text
(`status = active; aum >= 1000000`), then preview (f5: the first groups, in your scope) and
save (ctrl+s). The lists of fields come from the field catalog, custom fields included; every
rule is the domain's, and a problem shows under the form as `key: problem`.

Dismisses with a line to show in the reports list when saved, else None."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Select, Static

from crm_tui.i18n import t
from crm_tui.widgets.bindings import TranslatedFooter
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.footer import Footer
from crm_tui.widgets.session import UsesCrm

DIMENSIONS = 3
MEASURES = 3
PREVIEW_ROWS = 50


def _value(select: Select[str]) -> str:
    v = select.value
    return v if isinstance(v, str) else ""


class ReportDesignerScreen(TranslatedFooter, DomainCalls, UsesCrm, Screen[str | None]):
    DEFAULT_CSS = """
    ReportDesignerScreen #designer-form { height: auto; max-height: 60%; }
    ReportDesignerScreen .designer-row { height: auto; }
    ReportDesignerScreen .designer-row Input, ReportDesignerScreen .designer-row Select { width: 1fr; }
    ReportDesignerScreen .designer-label { width: 14; padding: 1 1 0 0; }
    ReportDesignerScreen #designer-message { height: auto; }
    ReportDesignerScreen #designer-message.-error { color: $error; }
    ReportDesignerScreen #designer-preview { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "back", "tui.key.back", id="designer-back"),
        Binding("f5", "preview", "tui.reports.key_preview", id="designer-preview"),
        Binding("ctrl+s", "save", "tui.key.save", id="designer-save"),
    ]

    def __init__(self, existing: Any) -> None:
        super().__init__()
        from crm_tui.domain.reporting.report_forms import MeasureRow, ReportForm, form_from_definition

        self.existing = existing
        self.form = (form_from_definition(existing.definition) if existing is not None
                     else ReportForm(measures=[MeasureRow("count")]))
        self._pending = True  # the saved values go into the selects once their options arrive

    def compose(self) -> ComposeResult:
        from crm_tui.domain.reporting.report_definitions import CHARTS, FNS
        from crm_tui.domain.reporting.report_fields import ENTITIES

        f = self.form
        title = (t("tui.reports.designer_edit", name=f.name) if self.existing
                 else t("tui.reports.designer_new"))
        yield Static(title, classes="pane-title", markup=False)
        with VerticalScroll(id="designer-form"):
            with Horizontal(classes="designer-row"):
                yield Static(t("tui.reports.label_name"), classes="designer-label")
                yield Input(f.name, id="d-name", placeholder="aum-by-tier")
                yield Input(f.title_zh, id="d-title-zh", placeholder=t("tui.reports.ph_title_zh"))
                yield Input(f.title_en, id="d-title-en", placeholder=t("tui.reports.ph_title_en"))
            with Horizontal(classes="designer-row"):
                yield Static(t("tui.reports.label_entity"), classes="designer-label")
                yield Select([(t(f"reports.entity.{e}"), e) for e in ENTITIES], value=f.entity,
                             allow_blank=False, id="d-entity")
                yield Select([(t(f"tui.reports.chart.{c}"), c) for c in CHARTS], value=f.chart,
                             allow_blank=False, id="d-chart")
                yield Input(f.sort, id="d-sort", placeholder=t("tui.reports.ph_sort"))
                yield Input(f.limit, id="d-limit", placeholder=t("tui.reports.ph_limit"))
            with Horizontal(classes="designer-row"):
                yield Static(t("tui.reports.label_dimensions"), classes="designer-label")
                for i in range(DIMENSIONS):
                    yield Select([], prompt=t("tui.reports.ph_dimension"), id=f"d-dim-{i}")
            for i in range(MEASURES):
                with Horizontal(classes="designer-row"):
                    yield Static(t("tui.reports.label_measure", n=i + 1), classes="designer-label")
                    yield Select([(t(f"tui.reports.fn.{fn}"), fn) for fn in FNS],
                                 prompt=t("tui.reports.ph_fn"), id=f"d-fn-{i}")
                    yield Select([], prompt=t("tui.reports.ph_field"), id=f"d-field-{i}")
                    when = f.measures[i].when if i < len(f.measures) else ""
                    yield Input(when, id=f"d-when-{i}", placeholder=t("tui.reports.ph_when"))
            with Horizontal(classes="designer-row"):
                yield Static(t("tui.reports.label_filters"), classes="designer-label")
                yield Input(f.filters, id="d-filters", placeholder=t("tui.reports.ph_filters"))
        yield Static(t("tui.reports.designer_hint"), id="designer-message", classes="pane-status",
                     markup=False)
        yield DataTable(id="designer-preview", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._load_fields(self.form.entity)
        self.query_one("#d-name", Input).focus()

    def _load_fields(self, entity: str) -> None:
        from crm_tui.domain.reporting.reports import available_fields

        self.call_domain(available_fields, self.crm, entity, group="fields", on_done=self._options)

    def _options(self, fields: dict[str, Any]) -> None:
        from crm_tui.domain.reporting.report_forms import dimension_options, measure_fields

        dims = [(self._dimension_label(f, key), key) for f, key in dimension_options(fields)]
        numbers = [(f.label(t), f.key) for f in measure_fields(fields)]
        for i in range(DIMENSIONS):
            self.query_one(f"#d-dim-{i}", Select).set_options(dims)
        for i in range(MEASURES):
            self.query_one(f"#d-field-{i}", Select).set_options(numbers)
        if self._pending:
            self._pending = False
            f = self.form
            for i, d in enumerate(f.dimensions[:DIMENSIONS]):
                if d in {k for _, k in dims}:
                    self.query_one(f"#d-dim-{i}", Select).value = d
            for i, m in enumerate(f.measures[:MEASURES]):
                self.query_one(f"#d-fn-{i}", Select).value = m.fn
                if m.field in {k for _, k in numbers}:
                    self.query_one(f"#d-field-{i}", Select).value = m.field

    @staticmethod
    def _dimension_label(f: Any, key: str) -> str:
        _, _, bucket = key.partition(":")
        return f"{f.label(t)} ({t('reports.bucket.' + bucket)})" if bucket else f.label(t)

    @on(Select.Changed, "#d-entity")
    def _entity_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and not self._pending:
            self._load_fields(event.value)

    def _collect(self) -> Any:
        from crm_tui.domain.reporting.report_forms import MeasureRow, ReportForm

        def text(id_: str) -> str:
            return self.query_one(f"#{id_}", Input).value

        return ReportForm(
            text("d-name"), text("d-title-zh"), text("d-title-en"),
            _value(self.query_one("#d-entity", Select)),
            [_value(self.query_one(f"#d-dim-{i}", Select)) for i in range(DIMENSIONS)],
            [MeasureRow(_value(self.query_one(f"#d-fn-{i}", Select)),
                        _value(self.query_one(f"#d-field-{i}", Select)), text(f"d-when-{i}"))
             for i in range(MEASURES)],
            text("d-filters"), text("d-sort"), text("d-limit"),
            _value(self.query_one("#d-chart", Select)))

    def action_preview(self) -> None:
        from crm_tui.domain.reporting.report_forms import definition_from_form
        from crm_tui.domain.reporting.reports import run_report

        crm, actor, form = self.crm, self.actor, self._collect()

        def preview() -> Any:
            d = definition_from_form(form)
            return run_report(crm, actor, d.model_copy(update={"limit": min(d.limit or PREVIEW_ROWS,
                                                                            PREVIEW_ROWS)}))

        self.say(t("tui.reports.running"), ok=True)
        self.call_domain(preview, group="preview", on_done=self._previewed, on_error=self._failed)

    def _previewed(self, result: Any) -> None:
        from crm_tui.screens.report_view import fill_table

        fill_table(self.query_one("#designer-preview", DataTable), result)
        self.say(t("tui.reports.previewed", rows=len(result.rows)), ok=True)

    def action_save(self) -> None:
        from crm_tui.domain.reporting.report_forms import definition_from_form
        from crm_tui.domain.reporting.reports import save_report

        crm, actor, form = self.crm, self.actor, self._collect()
        original = self.existing.name if self.existing is not None else None
        version = self.existing.version if self.existing is not None else None

        def save() -> Any:
            return save_report(crm, actor, definition_from_form(form), original=original,
                               version=version)

        self.call_domain(save, group="save", block=True, on_error=self._failed,
                         on_done=lambda v: self.dismiss(t("tui.reports.saved", name=v.name)))

    def _failed(self, text: str) -> None:
        self.say(text.replace("; ", "\n"), ok=False)

    def action_back(self) -> None:
        self.dismiss(None)

    def say(self, text: str, *, ok: bool) -> None:
        line = self.query_one("#designer-message", Static)
        line.update(text)
        line.set_class(not ok, "-error")
