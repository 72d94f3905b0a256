"""`python -m bench`: generate (or reuse) the data, measure, print, write `bench/results.json`.

Environment:
  BENCH_SCALE    fraction of production size (1 = 1M customers, 5M interactions; default 1)
  BENCH_QUERIES  queries per search/profile figure (default 300)
  BENCH_RUNS     cold starts per app (default 12)
  BENCH_ONLY     comma list of parts to run: search, profile, import, startup, pipeline,
                 tickets, ssh, concurrency, valuation, kpi (default all; valuation or kpi
                 alone does not build the main database)
  BENCH_SSH_SESSIONS  concurrent SSH sessions (default 50)
  BENCH_SSH_SPREAD_S  window in which the sessions each look a customer up (default 60)
  BENCH_PIPELINE_OPEN  open opportunities on the pipeline board (default 100000)
  BENCH_WORKERS  processes for data generation (default: the cores, at most 4)
  BENCH_KPI_RUNS  timed KPI refreshes per scope (default 3; each after one warm-up)
"""

from __future__ import annotations

import os
import platform
import random
import sqlite3
import sys
import time

for _var in ("CRM_KEY", "CRM_KEY_FILE", "CRM_DATABASE_URL"):
    os.environ.pop(_var, None)  # the bench uses its own database and key file only
os.environ["CRM_LANG"] = "en"

from bench.generate import Spec, ensure_database, key_path  # noqa: E402
from bench.report import RESULTS, Figure, print_table, write_results  # noqa: E402

PARTS = ("search", "profile", "import", "startup", "pipeline", "tickets", "ssh", "concurrency",
         "valuation", "kpi")


def main() -> int:
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    queries = int(os.environ.get("BENCH_QUERIES", "300"))
    runs = int(os.environ.get("BENCH_RUNS", "12"))
    only = [p.strip() for p in os.environ.get("BENCH_ONLY", ",".join(PARTS)).split(",") if p.strip()]
    unknown = set(only) - set(PARTS)
    if unknown:
        print(f"BENCH_ONLY: unknown part(s) {', '.join(sorted(unknown))}; known: {', '.join(PARTS)}",
              file=sys.stderr)
        return 2
    if only == ["valuation"]:  # its own data: no need for the 1M-customer main database
        from bench.valuation import run_valuation

        started = time.perf_counter()
        figures = [Figure("meta.scale", scale, "x"),
                   Figure("meta.load_avg_1m", os.getloadavg()[0], "procs"),
                   *run_valuation(scale)]
        print(f"\nmeasured in {time.perf_counter() - started:.0f} s\n")
        print_table(figures)
        write_results(figures)
        return 0
    spec = Spec.from_scale(scale)
    print(f"crm-tui bench: scale {scale:g} ({spec.customers:,} customers, "
          f"{spec.interactions:,} interactions), {queries} queries per figure; "
          f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
          f"{os.cpu_count()} CPU(s)", flush=True)
    if only in (["pipeline"], ["tickets"], ["kpi"]):  # each has data of its own
        if only == ["pipeline"]:
            from bench.pipeline import run_pipeline

            figures = run_pipeline()
        elif only == ["kpi"]:
            from bench.kpi import run_kpi

            figures = run_kpi(scale)
        else:
            from bench.tickets import run_tickets

            figures = run_tickets(scale)
        print_table(figures)
        write_results(figures)
        return 0
    path, facts = ensure_database(spec)

    from bench.queries import bench_actors, raw_connection, run_profile, run_search
    from crm_tui.domain.kernel.context import Crm
    from crm_tui.settings import Settings
    from crm_tui.store.crypto import load_keyring
    from crm_tui.store.db import Database

    figures = [
        Figure("meta.scale", scale, "x"),
        Figure("meta.load_avg_1m", os.getloadavg()[0], "procs",
               note=f"{os.cpu_count()} CPU(s), shared with whatever else runs"),
        Figure("meta.customers", facts["customers"], "rows"),
        Figure("meta.interactions", facts["interactions"], "rows"),
        Figure("meta.generation_s", facts["seconds"], "s", note="cached after the first run"),
    ]
    url = f"sqlite:///{path}"
    crm = Crm(Database(url), load_keyring(key_path(path)),
              Settings(database_url=url, key_file=key_path(path)), key_path(path))
    conn = raw_connection(path)
    actors = bench_actors(crm, conn)
    rng = random.Random(7)
    started = time.perf_counter()
    if "search" in only:
        figures += run_search(crm, conn, actors, queries, rng)
    if "profile" in only:
        figures += run_profile(crm, conn, actors, queries)
    conn.close()
    crm.db.dispose()
    if "import" in only:
        from bench.importing import run_import

        rows = max(50_000, round(200_000 * scale))
        figures += run_import(path, rows, populated=False)
        figures += run_import(path, rows, populated=True)
    if "startup" in only:
        from bench.startup import run_startup

        figures += run_startup(path, runs)
    if "ssh" in only:
        from bench.ssh_load import run_ssh_load

        figures += run_ssh_load(path, int(os.environ.get("BENCH_SSH_SESSIONS", "50")),
                                float(os.environ.get("BENCH_SSH_SPREAD_S", "60")))
    if "concurrency" in only:
        from bench.concurrency import run_concurrency

        figures += run_concurrency()
    if "valuation" in only:
        from bench.valuation import run_valuation

        figures += run_valuation(scale)
    if "pipeline" in only:
        from bench.pipeline import run_pipeline

        figures += run_pipeline()
    if "tickets" in only:
        from bench.tickets import run_tickets

        figures += run_tickets(scale)
    if "kpi" in only:
        from bench.kpi import run_kpi

        figures += run_kpi(scale)
    print(f"\nmeasured in {time.perf_counter() - started:.0f} s "
          f"(rm = {actors['rm'].username}, branch head = {actors['branch_head'].username})\n")
    print_table(figures)
    write_results(figures)
    print(f"\nwritten to {RESULTS}")
    missed = [f.name for f in figures if f.met is False]
    if missed:
        print(f"targets missed: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
