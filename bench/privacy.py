"""`python -m bench.privacy`: what the PIPL features cost a search and a profile open.

Run against the cached bench database (`python -m bench` makes it; same BENCH_SCALE).
Interleaved A/B in one process, so the machine's load hits both sides alike:

- search and profile through the domain with the access-log insert, and with it stubbed out;
- the raw-SQL floor of the captured search statements with and without the restricted filter
  (`customer.restricted IS 0`), and the access-log insert alone, raw.
"""

from __future__ import annotations

import os
import random
import sys
import time
from typing import Any

for _var in ("CRM_KEY", "CRM_KEY_FILE", "CRM_DATABASE_URL"):
    os.environ.pop(_var, None)
os.environ["CRM_LANG"] = "en"

from bench.generate import Spec, ensure_database, key_path  # noqa: E402
from bench.queries import bench_actors, capture, raw_connection, search_inputs  # noqa: E402
from bench.report import percentile  # noqa: E402

FILTER = " AND customer.restricted IS 0"


def _ms(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def _line(name: str, values: list[float]) -> str:
    return f"{name:<44} p50 {percentile(values, 50):7.2f} ms   p95 {percentile(values, 95):7.2f} ms"


def main() -> int:
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    n = int(os.environ.get("BENCH_QUERIES", "300"))
    path, _facts = ensure_database(Spec.from_scale(scale))

    from crm_tui.domain.customers import profile, search
    from crm_tui.domain.kernel import access_log
    from crm_tui.domain.kernel.context import Crm
    from crm_tui.settings import Settings
    from crm_tui.store.crypto import load_keyring
    from crm_tui.store.db import Database

    url = f"sqlite:///{path}"
    crm = Crm(Database(url), load_keyring(key_path(path)),
              Settings(database_url=url, key_file=key_path(path)), key_path(path))
    conn = raw_connection(path)
    actors = bench_actors(crm, conn)
    rng = random.Random(7)
    real_search, real_profile = search.log_access, profile.log_access

    def stub(*_a: Any, **_k: Any) -> None:
        return None

    print(f"bench.privacy: scale {scale:g}, {n} queries per figure, load "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s)")
    for label, actor in actors.items():
        inputs = search_inputs(crm, conn, actor, n, rng)
        queries = [q for kind in ("name_prefix", "pinyin_initials", "phone_last4")
                   for q in inputs[kind][: n // 3]]
        for q in queries[:20]:
            search.search_customers(crm, actor, q)
        logged, bare = [], []
        for q in queries:  # interleaved: the same load on both sides
            search.log_access = real_search
            logged.append(_ms(lambda q=q, a=actor: search.search_customers(crm, a, q)))
            search.log_access = stub
            bare.append(_ms(lambda q=q, a=actor: search.search_customers(crm, a, q)))
        search.log_access = real_search
        print(_line(f"search.{label} with access log", logged))
        print(_line(f"search.{label} without access log", bare))
        with capture(crm.db.read_engine) as calls:
            for q in queries:
                calls.append([])
                search.log_access = stub
                search.search_customers(crm, actor, q)
        search.log_access = real_search
        floor, floor_open = [], []
        for stmts in calls:
            for sql, params in stmts:
                floor.append(_ms(lambda s=sql, p=params: conn.execute(s, p).fetchall()))
                floor_open.append(_ms(lambda s=sql.replace(FILTER, ""), p=params:
                                      conn.execute(s, p).fetchall()))
        print(_line(f"search.{label} raw floor, restricted filter", floor))
        print(_line(f"search.{label} raw floor, no filter", floor_open))
        if label != "rm":
            continue
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM customer WHERE rm_id = ? LIMIT ?", (actors["rm"].id, n))]
        logged, bare = [], []
        for cid in ids:
            profile.log_access = real_profile
            logged.append(_ms(lambda c=cid, a=actor: profile.get_profile(crm, a, c)))
            profile.log_access = stub
            bare.append(_ms(lambda c=cid, a=actor: profile.get_profile(crm, a, c)))
        profile.log_access = real_profile
        print(_line("profile.rm with access log", logged))
        print(_line("profile.rm without access log", bare))
    raw_insert = []
    for i in range(n):
        raw_insert.append(_ms(lambda i=i: access_log.log_access(
            crm.db, actors["rm"], "search", ids=range(i, i + 50))))
    print(_line("access_log.log_access alone (50 ids)", raw_insert))
    conn.close()
    crm.db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
