"""Saved reports: list, read, create, edit, delete, import from TOML files, and run.

A definition is stored as its TOML text in `saved_report` (the same text `crm report export`
prints and `crm report import` reads), checked against the field catalog before it is kept,
and every change writes its audit event in the same transaction. Anyone who reads figures
(RMs, supervisors, branch heads, compliance, risk) may run and define reports; a report is
changed or deleted by its author, a branch head, or the operator (`crm report import`).
Running one is always in the runner's scope: the same definition shows an RM her book and a
branch head the branch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from crm_tui.domain.reporting.base import require_reporting
from crm_tui.domain.reporting.report_definitions import (
    ReportDefinition,
    parse_toml,
    problem,
    to_toml,
)
from crm_tui.domain.reporting.report_fields import ENTITIES, ReportField, SqlCtx, report_fields
from crm_tui.domain.reporting.report_sql import Compiled, ResultColumn, compile_report
from crm_tui.store.models_reporting import SavedReport
from crm_tui.store.types import utcnow

MAX_FILE_BYTES = 256 * 1024


@dataclass(frozen=True)
class SavedReportView:
    id: int
    name: str
    body: str
    created_by: str
    updated_at: datetime
    version: int
    definition: ReportDefinition | None
    """None when the stored text no longer validates (see `problem`)."""
    problem: str | None = None

    def title(self, lang: str) -> str:
        return self.definition.title(lang) if self.definition else self.name

    @property
    def entity(self) -> str:
        return self.definition.entity if self.definition else ""


@dataclass(frozen=True)
class ReportResult:
    definition: ReportDefinition
    columns: tuple[ResultColumn, ...]
    rows: tuple[tuple[Any, ...], ...]
    truncated: bool
    """More groups existed than a report returns (MAX_ROWS) and no `limit` asked for fewer."""
    generated_at: datetime
    scope: dict[str, Any]


def _is_system(actor: Actor) -> bool:
    return actor.id is None and actor.role == "admin"


def _may_read(actor: Actor) -> None:
    if not _is_system(actor):
        require_reporting(actor)


def _may_change(actor: Actor, row: SavedReport) -> None:
    if _is_system(actor) or actor.role == "branch_head" or row.created_by == actor.username:
        return
    raise PermissionDenied(role=actor.role, action="report.change")


def _view(row: SavedReport) -> SavedReportView:
    try:
        d: ReportDefinition | None = parse_toml(row.body)
        bad = None
    except ValidationFailed as exc:
        d, bad = None, exc.message
    return SavedReportView(row.id or 0, row.name, row.body, row.created_by, row.updated_at,
                           row.version, d, bad)


def sql_ctx(crm: Crm) -> SqlCtx:
    return SqlCtx(crm.db.write_engine.dialect.name, crm.tz, crm.policy().reporting)


def available_fields(crm: Crm, entity: str) -> dict[str, ReportField]:
    """What a report on `entity` may group by, filter on and measure (the designer's lists)."""
    if entity not in ENTITIES:
        raise ValidationFailed([problem("entity", "reports.error.entity", entity=entity,
                                        choices=", ".join(ENTITIES))])
    return report_fields(crm, entity)


def compile_definition(crm: Crm, actor: Actor, d: ReportDefinition,
                       now: datetime | None = None) -> Compiled:
    """The definition checked against the catalog (every problem at once) and its query."""
    fields = report_fields(crm, d.entity) if d.entity in ENTITIES else {}
    return compile_report(fields, d, actor, sql_ctx(crm), now or utcnow())


def list_reports(crm: Crm, actor: Actor) -> list[SavedReportView]:
    _may_read(actor)
    with crm.db.read() as session:
        rows = session.scalars(select(SavedReport).order_by(SavedReport.name)).all()
        return [_view(r) for r in rows]


def get_report(crm: Crm, actor: Actor, name: str) -> SavedReportView:
    _may_read(actor)
    with crm.db.read() as session:
        row = session.scalars(select(SavedReport).where(SavedReport.name == name)).first()
        if row is None:
            raise NotFound("reports.error.no_report", name=name)
        return _view(row)


def save_report(crm: Crm, actor: Actor, d: ReportDefinition, *, original: str | None = None,
                version: int | None = None, replace: bool = False) -> SavedReportView:
    """Create `d`, or edit the report now called `original` (at `version`, else Conflict).
    With `replace` (an import), a report of the same name is updated instead of refused."""
    _may_read(actor)
    compile_definition(crm, actor, d)  # every name checked before anything is kept
    body = to_toml(d)
    with crm.db.write() as session:
        existing = session.scalars(select(SavedReport).where(SavedReport.name == d.name)).first()
        row = existing if original is None else session.scalars(
            select(SavedReport).where(SavedReport.name == original)).first()
        if original is not None and row is None:
            raise NotFound("reports.error.no_report", name=original)
        if original is None and existing is not None and not replace:
            raise ValidationFailed([FieldError("name", "reports.error.name_taken", {"name": d.name})])
        if row is not None and existing is not None and existing.id != row.id:
            raise ValidationFailed([FieldError("name", "reports.error.name_taken", {"name": d.name})])
        if row is None:
            row = SavedReport(name=d.name, body=body, created_by=actor.username)
            session.add(row)
            session.flush()
            audit.record(crm.db, session, actor, "report.create", "saved_report", row.id, None,
                         {"name": d.name, "body": body})
            return _view(row)
        _may_change(actor, row)
        if version is not None and row.version != version:
            raise Conflict("reports.error.conflict", name=row.name)
        if row.body == body and row.name == d.name:
            return _view(row)
        before = {"name": row.name, "body": row.body, "version": row.version}
        row.name, row.body, row.updated_at = d.name, body, utcnow()
        row.version += 1
        session.add(row)
        session.flush()
        audit.record(crm.db, session, actor, "report.update", "saved_report", row.id, before,
                     {"name": row.name, "body": body, "version": row.version})
        return _view(row)


def delete_report(crm: Crm, actor: Actor, name: str, *, version: int | None = None) -> None:
    _may_read(actor)
    with crm.db.write() as session:
        row = session.scalars(select(SavedReport).where(SavedReport.name == name)).first()
        if row is None:
            raise NotFound("reports.error.no_report", name=name)
        _may_change(actor, row)
        if version is not None and row.version != version:
            raise Conflict("reports.error.conflict", name=name)
        audit.record(crm.db, session, actor, "report.delete", "saved_report", row.id,
                     {"name": row.name, "body": row.body, "version": row.version}, None)
        session.delete(row)


def read_definition_file(path: Path) -> ReportDefinition:
    """One TOML file; a problem names the file and the definition's key."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ValidationFailed([problem(path.name, "reports.error.file_size",
                                            max=MAX_FILE_BYTES)])
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed([problem(path.name, "reports.error.read", detail=str(exc))]) from None
    try:
        return parse_toml(text)
    except ValidationFailed as exc:
        raise ValidationFailed([problem(f"{path.name}: {e.field}", e.key, **e.params)
                                for e in exc.errors]) from None


def definition_files(paths: list[Path]) -> list[Path]:
    """The files given, and every `*.toml` in a folder given (sorted by name)."""
    out: list[Path] = []
    for p in paths:
        out += sorted(p.glob("*.toml")) if p.is_dir() else [p]
    return out


def import_reports(crm: Crm, actor: Actor, paths: list[Path], *,
                   dry_run: bool = False) -> list[tuple[str, str]]:
    """Read every file first (all problems at once, nothing saved if one is bad), then create
    or update each report by name; returns (name, created|updated|unchanged|checked)."""
    _may_read(actor)
    definitions: list[ReportDefinition] = []
    errors: list[FieldError] = []
    for path in definition_files(paths):
        try:
            d = read_definition_file(path)
            compile_definition(crm, actor, d)
            definitions.append(d)
        except ValidationFailed as exc:
            errors += [e if e.field.startswith(path.name) else
                       problem(f"{path.name}: {e.field}", e.key, **e.params) for e in exc.errors]
    names = [d.name for d in definitions]
    errors += [problem("name", "reports.error.name_twice", name=n)
               for n in sorted({n for n in names if names.count(n) > 1})]
    if not definitions and not errors:
        errors.append(problem("files", "reports.error.no_files"))
    if errors:
        raise ValidationFailed(errors)
    if dry_run:
        return [(d.name, "checked") for d in definitions]
    before = {r.name: r.version for r in list_reports(crm, actor)}
    out = []
    for d in definitions:
        saved = save_report(crm, actor, d, replace=True)
        action = ("created" if d.name not in before else
                  "updated" if saved.version != before[d.name] else "unchanged")
        out.append((d.name, action))
    return out


def run_report(crm: Crm, actor: Actor, d: ReportDefinition, *,
               now: datetime | None = None) -> ReportResult:
    """The report's groups in the actor's scope, computed by the database."""
    require_reporting(actor)
    now = now or utcnow()
    compiled = compile_definition(crm, actor, d, now)
    with crm.db.read() as session:
        raw = session.execute(compiled.query).all()
    truncated = len(raw) > compiled.limit and d.limit is None
    rows = tuple(tuple(read(tuple(r)) for read in compiled.readers) for r in raw[:compiled.limit])
    scope = {"user": actor.username, "role": actor.role,
             "book": {"rm": "own", "supervisor": "team", "branch_head": "branch"}.get(
                 actor.role, "bank")}
    return ReportResult(d, compiled.columns, rows, truncated, now, scope)


def run_saved(crm: Crm, actor: Actor, name: str, *, now: datetime | None = None) -> ReportResult:
    view = get_report(crm, actor, name)
    if view.definition is None:
        raise ValidationFailed([problem(name, "reports.error.stored_invalid",
                                        detail=view.problem or "")])
    return run_report(crm, actor, view.definition, now=now)
