"""The demo's saved reports: the TOML definitions in `report_definitions/`, imported as an
admin would import them (`crm report import crm_tui/demo/report_definitions`)."""

from __future__ import annotations

from pathlib import Path

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.reporting.reports import import_reports

DEFINITIONS = Path(__file__).parent / "report_definitions"


def seed_reports(crm: Crm, actor: Actor) -> list[tuple[str, str]]:
    return import_reports(crm, actor, [DEFINITIONS])
