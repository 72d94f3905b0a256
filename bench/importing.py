"""Customer import rows/s: the real importer (validate, encrypt, chunked transactions, rule
tags, audit) on a generated CSV, next to raw executemany of the same rows into the same table.

Measured twice: into an empty store (a new branch's first load) and into a copy of the bench
store, where the table already holds its million customers and every insert pays for eleven
indexes whose pages are scattered over a 3 GB file.
"""

from __future__ import annotations

import csv
import random
import shutil
import sqlite3
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.generate import DATA, GIVEN_CHARS, key_path, mobile, resident_id
from bench.report import Figure
from crm_tui.demo import data as D

TARGET_ROWS_S = 50_000
# Areas the bench database does not use, so no row collides with a stored national ID.
AREAS = ("150102", "460105", "650102", "540102", "630102", "640104")
HEADERS = ("姓名", "证件类型", "证件号码", "手机号", "邮箱", "出生日期", "性别", "地址", "风险等级",
           "资产规模", "所属网点", "客户经理")


def write_csv(path: Path, rows: int, branches: list[tuple[str, str]], seed: int = 11) -> None:
    """A branch office's export: UTF-8 with BOM, Chinese headers, mixed date and amount styles."""
    rng = random.Random(seed)
    seen: set[str] = set()
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADERS)
        today = date.today()
        for _ in range(rows):
            gender = rng.choice("MF")
            age = rng.randint(22, 85)
            birth = today.replace(year=today.year - age, day=min(today.day, 28)) - timedelta(
                days=rng.randint(0, 360))
            while True:
                nid = resident_id(rng, rng.choice(AREAS), birth, gender)
                if nid not in seen:
                    seen.add(nid)
                    break
            name = rng.choice("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高") + rng.choice(GIVEN_CHARS) + (
                rng.choice(GIVEN_CHARS) if rng.random() < 0.6 else "")
            branch, rm = rng.choice(branches)
            aum = rng.randint(0, 3_000_000_00) / 100
            out.writerow((
                name, "身份证", nid, mobile(rng),
                f"user{rng.randrange(10**6)}@{rng.choice(D.EMAIL_DOMAINS)}" if rng.random() < 0.5 else "",
                birth.strftime(rng.choice(("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"))),
                "男" if gender == "M" else "女",
                f"{rng.choice(('北京市朝阳区建国路', '上海市浦东新区世纪大道'))}{rng.randint(1, 399)}号",
                rng.choice(("C1", "C2", "C3", "C4", "C5", "稳健型", "")),
                f"{aum:,.2f}", branch, rm,
            ))


def _empty_store(db: Path, work: Path) -> None:
    """A freshly initialised store holding only the bench organisation (no customers)."""
    from crm_tui.domain.admin.setup import init_database
    from crm_tui.domain.kernel.actor import system_actor
    from crm_tui.domain.kernel.context import Crm
    from crm_tui.settings import Settings
    from crm_tui.store.crypto import load_keyring
    from crm_tui.store.db import Database

    url = f"sqlite:///{work}"
    crm = Crm(Database(url), load_keyring(key_path(db)), Settings(database_url=url), key_path(db))
    init_database(crm, system_actor("bench"))
    crm.db.dispose()
    conn = sqlite3.connect(work, isolation_level=None)
    conn.execute("ATTACH DATABASE ? AS src", (str(db),))
    conn.execute("BEGIN")
    for table in ("branch", "team", "staff", "product"):
        conn.execute(f"INSERT INTO {table} SELECT * FROM src.{table}")
    conn.execute("COMMIT")
    conn.execute("DETACH DATABASE src")
    conn.close()


def run_import(db: Path, rows: int, populated: bool) -> list[Figure]:
    """Import `rows` generated customers into a copy of the bench store (`populated`) or into
    an empty store with the same organisation; the floor re-inserts the same rows raw."""
    from crm_tui.domain.data_io.importer import ImportOptions, import_customers
    from crm_tui.domain.kernel.actor import system_actor
    from crm_tui.domain.kernel.context import Crm
    from crm_tui.settings import Settings
    from crm_tui.store.crypto import load_keyring
    from crm_tui.store.db import Database

    work = DATA / "import-work.db"
    csv_path = DATA / f"import-{rows}-{db.stem}.csv"  # its branches and RMs are the store's
    for stale in (work, Path(f"{work}-wal"), Path(f"{work}-shm"), key_path(work)):
        stale.unlink(missing_ok=True)
    if populated:
        shutil.copyfile(db, work)
    else:
        _empty_store(db, work)
    shutil.copyfile(key_path(db), key_path(work))
    key_path(work).chmod(0o600)  # crm refuses a key file others may read
    try:
        conn = sqlite3.connect(work, isolation_level=None)
        branches = conn.execute(
            "SELECT b.code, s.username FROM staff s JOIN branch b ON b.id = s.branch_id "
            "WHERE s.role = 'rm' ORDER BY s.id").fetchall()
        before = conn.execute("SELECT coalesce(max(id), 0) FROM customer").fetchone()[0]
        conn.close()
        if not csv_path.exists():
            write_csv(csv_path, rows, branches)

        url = f"sqlite:///{work}"
        crm = Crm(Database(url), load_keyring(key_path(work)),
                  Settings(database_url=url, key_file=key_path(work)), key_path(work))
        report = import_customers(crm, system_actor("bench"), csv_path,
                                  ImportOptions(rejects_path=DATA / "import-rejects.csv"))
        crm.db.dispose()
        if report.stored != rows:
            raise RuntimeError(f"importer stored {report.stored} of {rows} rows "
                               f"({report.rejected} rejected, see {report.rejects_path})")
        app_rate = report.rows / report.elapsed
        floor_rate = _raw_rate(work, before)
    finally:
        for path in (work, Path(f"{work}-wal"), Path(f"{work}-shm"), key_path(work)):
            path.unlink(missing_ok=True)
    name = "import.customers_into_store.rows_per_s" if populated else "import.customers.rows_per_s"
    where = f"into a store of {before:,}" if populated else "into an empty store"
    return [Figure(name, app_rate, "rows/s", floor_rate, target=f">= {TARGET_ROWS_S:,}",
                   met=app_rate >= TARGET_ROWS_S, note=f"{rows:,} rows {where}")]


def _raw_rate(work: Path, before: int) -> float:
    """Take the imported rows out again and put the very same rows back with executemany."""
    from crm_tui.domain.data_io.importer import IMPORT_CACHE_KIB

    conn = sqlite3.connect(work, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    # The same page cache the importer gives itself, so the floor is not handicapped.
    conn.execute(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
    cols = [r[1] for r in conn.execute("PRAGMA table_info(customer)")]
    rows: list[tuple[Any, ...]] = conn.execute(
        f"SELECT {', '.join(cols)} FROM customer WHERE id > ? ORDER BY id", (before,)).fetchall()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DELETE FROM customer_tag WHERE customer_id > ?", (before,))
    conn.execute("DELETE FROM customer WHERE id > ?", (before,))
    conn.execute("COMMIT")
    sql = f"INSERT INTO customer ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(sql, rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return len(rows) / elapsed
