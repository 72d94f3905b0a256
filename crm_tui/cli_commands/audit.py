"""`crm audit verify` and `crm audit log`: checking and reading the tamper-evident log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from crm_tui.cli_commands.base import (
    CliError,
    DbOption,
    JsonOption,
    database_url,
    display_url,
    group,
    local_time,
    note,
    out,
    print_json,
    store,
)
from crm_tui.domain.kernel import audit, seals
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.i18n import t
from crm_tui.store.crypto import KeyMaterialError


def _read_anchor(path: Path) -> audit.Anchor:
    try:
        return audit.Anchor.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CliError("cli.audit2.bad_anchor", path=str(path), detail=str(exc)) from exc


@contextmanager
def _store_with_key(db: str | None, key_file: Path | None) -> Iterator[Crm]:
    """The store, opened with `--key-file` when given; without a usable key, name the key the
    chain needs (a backup verified on another machine)."""
    from crm_tui.settings import get_settings, key_file_override

    with key_file_override(key_file):
        try:
            with store(db) as crm:
                yield crm
        except KeyMaterialError:
            from crm_tui.domain.kernel.context import key_file_for

            settings = get_settings()
            if settings.key is not None or key_file_for(database_url(db), settings).exists():
                raise  # a key is there but unusable (wide rights, malformed): its own message
            needs = _needed_audit_key(db)
            raise CliError("cli.audit2.needs_key", db=display_url(database_url(db)),
                           needs=needs or "?") from None


def _needed_audit_key(db: str | None) -> str | None:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url(db))
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT scheme FROM audit_event WHERE scheme <> 'sha' "
                                    "ORDER BY id LIMIT 1")).first()
        return row[0].removeprefix("hmac:") if row else None
    except Exception:  # an older schema or not a crm database: the caller says "?"
        return None
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    audit_app = group(app, "audit", t("cli.audit.help"))

    @audit_app.command("verify", help=t("cli.audit.verify_help"))
    def verify(
        anchor_file: Annotated[Path | None, typer.Option("--anchor", metavar="FILE",
                                                         help=t("cli.audit2.opt_anchor"))] = None,
        data: Annotated[bool, typer.Option("--data", help=t("cli.audit2.opt_data"))] = False,
        key_file: Annotated[Path | None, typer.Option("--key-file", metavar="PATH",
                                                      help=t("cli.audit2.opt_key_file"))] = None,
        db: DbOption = None,
    ) -> None:
        anchor = _read_anchor(anchor_file) if anchor_file else None
        with _store_with_key(db, key_file) as crm:
            report = audit.verify_chain(crm.db, anchor=anchor)
            findings = list(seals.check_data(crm.db, crm.keys.audit_key)) if (
                data and report.ok) else []
        if not report.ok:
            typer.echo(t("cli.audit.broken", id=report.bad_event_id,
                         reason=t(report.reason, **(report.params or {})),
                         checked=report.checked), err=True)
            raise typer.Exit(1)
        out(t("cli.audit.intact", count=report.checked))
        if report.legacy:
            note(t("cli.audit2.legacy", count=report.legacy))
        if data:
            if not findings:
                out(t("cli.audit2.data_ok"))
                return
            for f in findings:
                typer.echo(t("cli.audit2.data_row", entity=f.entity, id=f.row_id,
                             problem=t(f"cli.audit2.problem_{f.problem}")), err=True)
            typer.echo(t("cli.audit2.data_broken", count=len(findings)), err=True)
            raise typer.Exit(1)

    @audit_app.command("anchor", help=t("cli.audit2.anchor_help"))
    def anchor_cmd(as_json: JsonOption = False, db: DbOption = None) -> None:
        with store(db) as crm:
            head = audit.anchor(crm.db)
            tz = crm.tz
        if as_json:
            print_json(head.to_json())
            return
        out(t("cli.audit2.anchor", count=head.count, id=head.last_event_id, hash=head.hash,
              at=local_time(head.at, tz)))

    @audit_app.command("log", help=t("cli.audit.log_help"))
    def log(
        entity: Annotated[str | None, typer.Option("--entity", help=t("cli.audit.opt_entity"))] = None,
        entity_id: Annotated[str | None, typer.Option("--id", help=t("cli.audit.opt_id"))] = None,
        actor: Annotated[str | None, typer.Option("--actor", help=t("cli.audit.opt_actor"))] = None,
        action: Annotated[str | None, typer.Option("--action", help=t("cli.audit.opt_action"))] = None,
        limit: Annotated[int, typer.Option("--limit", min=1, max=100_000,
                                           help=t("cli.audit.opt_limit"))] = 50,
        db: DbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        with store(db) as crm:
            rows: list[audit.AuditRow] = []
            before_id: int | None = None
            # Page through by id so --action can filter without loading the whole log.
            while len(rows) < limit:
                page = audit.list_events(crm.db, system_actor(), entity=entity, entity_id=entity_id,
                                         actor_name=actor, before_id=before_id,
                                         limit=min(1000, max(limit, 50)))
                if not page:
                    break
                rows.extend(r for r in page if action is None or r.action == action)
                before_id = page[-1].id
                if action is None:
                    break
            rows = rows[:limit]
            tz = crm.tz
        if as_json:
            print_json([{"id": r.id, "at": r.at.astimezone(tz).isoformat(), "actor": r.actor,
                         "action": r.action, "entity": r.entity, "entity_id": r.entity_id,
                         "before": r.before, "after": r.after} for r in rows])
            return
        if not rows:
            out(t("cli.audit.none"))
            return
        for r in rows:
            target = f"{r.entity}#{r.entity_id}" if r.entity_id else r.entity
            change = " ".join(part for part in (r.before and f"{t('cli.audit.before')} {r.before}",
                                                r.after and f"{t('cli.audit.after')} {r.after}") if part)
            out(f"{r.id:>7}  {local_time(r.at, tz)}  {r.actor:<16} {r.action:<22} {target}  {change}"
                .rstrip())

    @audit_app.command("access", help=t("privacy.cli.access_help"))
    def access(
        customer: Annotated[int | None, typer.Option("--customer", metavar="ID",
                                                     help=t("privacy.cli.opt_customer"))] = None,
        staff: Annotated[str | None, typer.Option("--staff", metavar="USER",
                                                  help=t("privacy.cli.opt_staff"))] = None,
        since: Annotated[str | None, typer.Option("--since", metavar="DATE",
                                                  help=t("privacy.cli.opt_since"))] = None,
        db: DbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        from crm_tui.cli_commands.privacy import print_access

        print_access(db, customer, staff, since, as_json)

