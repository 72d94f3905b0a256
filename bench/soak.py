"""`make soak`: SIGKILL trials over customer import, approval decisions and key rotation.

Each trial starts one of the three in a child process, waits until it has done some work (its
first audit event of real work), kills it with SIGKILL a random moment later, then checks the store:
`PRAGMA integrity_check`, the counts (customers only grow, and only by whole chunks of the
file), no national ID stored twice, and `crm audit verify --data` (the keyed chain and every
watched row's seal). Every import file is imported twice (killed, then resumed), then a new
one is written, so the kills keep landing among new rows. It prints each failure and a summary.
`python -m bench.soak [TRIALS]` (default 200); the suite runs five (tests/test_soak.py).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "soak-pass-1"
SEED_ROWS = 40
CHUNK_ROWS = 500
FILE_ROWS = 3000  # whole chunks, so the customer count moves by whole chunks only

_APPROVER = """
import sys
from crm_tui.domain.admin.auth import login
from crm_tui.domain.compliance import approvals
from crm_tui.domain.kernel.context import open_crm
crm = open_crm(sys.argv[1])
deciders = [login(crm, user, sys.argv[2]) for user in ("sup1", "comp1")]
for rid in map(int, sys.argv[3:]):
    for who in deciders:  # each level by its role: the supervisor, then compliance if asked
        try:
            approvals.approve(crm, who, rid, "浸泡测试批准")
        except Exception as exc:  # not this role's level, decided, or stale after a kill: fine
            pass
"""

_REQUESTER = """
import sys
from crm_tui.domain.admin.auth import login
from crm_tui.domain.compliance.sensitive_changes import request_change
from crm_tui.domain.kernel.context import open_crm
crm = open_crm(sys.argv[1])
rm = login(crm, "rm1", sys.argv[2])
start, n = int(sys.argv[3]), int(sys.argv[4])
ids = []
for i in range(n):
    cid = 1 + (start + i) % 40
    ids.append(request_change(crm, rm, cid, "phone", f"139{start + i:08d}", "客户来电变更"))
print(" ".join(map(str, ids)))
"""


@dataclass
class Soak:
    base: Path
    env: dict[str, str]
    failures: list[str] = field(default_factory=list)
    trials: int = 0
    customers: int = 0
    decided: int = 0  # approval decisions stored so far (the approval trials must decide)

    @property
    def db(self) -> Path:
        return self.base / "soak.db"

    def crm(self, *args: str, input: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        r = subprocess.run([sys.executable, "-m", "crm_tui.cli", *args, "--db", str(self.db)],
                           input=input, capture_output=True, text=True, env=self.env, cwd=ROOT)
        if check and r.returncode != 0:
            raise RuntimeError(f"crm {' '.join(args)}: {r.stderr.strip()}")
        return r

    def py(self, script: str, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-c", script, str(self.db), *args],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                env=self.env, cwd=ROOT)

    def check(self, label: str) -> None:
        conn = sqlite3.connect(self.db)
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            count = conn.execute("SELECT count(*) FROM customer").fetchone()[0]
            dupes = conn.execute("SELECT count(*) - count(DISTINCT national_id_bidx) FROM customer "
                                 "WHERE national_id_bidx IS NOT NULL").fetchone()[0]
            double = conn.execute("SELECT count(*) FROM (SELECT request_id, level FROM "
                                  "approval_decision GROUP BY request_id, level "
                                  "HAVING count(*) > 1)").fetchone()[0]
            self.decided = conn.execute("SELECT count(*) FROM approval_decision").fetchone()[0]
        finally:
            conn.close()
        problems = []
        if ok != "ok":
            problems.append(f"integrity_check: {ok}")
        if count < self.customers:
            problems.append(f"customers went down {self.customers} -> {count}")
        if (count - SEED_ROWS) % CHUNK_ROWS:
            problems.append(f"{count - SEED_ROWS} imported customers: not whole chunks of {CHUNK_ROWS}")
        if dupes:
            problems.append(f"{dupes} duplicate national IDs")
        if double:
            problems.append(f"{double} levels decided twice")
        verify = self.crm("audit", "verify", "--data", check=False)
        if verify.returncode != 0:
            problems.append("audit verify: " + " | ".join(verify.stderr.strip().splitlines()[-3:]))
        self.customers = max(self.customers, count)
        if problems:
            self.failures.append(f"trial {self.trials} ({label}): " + "; ".join(problems))


def setup(base: Path) -> Soak:
    sys.path.insert(0, str(ROOT))
    from tests.customer_files import rows, write_csv

    env = {**os.environ, "XDG_CONFIG_HOME": str(base / "config"), "CRM_LANG": "en"}
    env.pop("CRM_KEY", None)
    soak = Soak(base, env)
    soak.crm("init", "--admin-password-stdin", input="admin-pass-1\n")
    soak.crm("branches", "add", "BJ01", "北京分行营业部", "--region", "华北")
    soak.crm("teams", "add", "财富一组", "--branch", "BJ01")
    for user, name, role in (("rm1", "王芳", "rm"), ("sup1", "赵强", "supervisor"),
                             ("comp1", "黄磊", "compliance")):
        soak.crm("users", "add", user, "--name", name, "--role", role, "--branch", "BJ01",
                 *(["--team", "财富一组"] if role in ("rm", "supervisor") else []),
                 "--password-stdin", input=PASSWORD + "\n")
    write_csv(base / "seed.csv", rows(SEED_ROWS))
    soak.crm("import", "customers", str(base / "seed.csv"))
    soak.check("setup")
    return soak


def trial(soak: Soak, rnd: random.Random) -> None:
    soak.trials += 1
    kind = ("import", "approve", "rotate")[soak.trials % 3]
    if kind == "import":
        # A rotation killed earlier is finished first, as the operator would (an import
        # refuses to run beside an unfinished one); the import is what this trial kills.
        if _events(soak.db, "keys.rotate_start") > _events(soak.db, "keys.rotate"):
            soak.crm("keys", "rotate")
            soak.check("rotation finished")
        n = soak.trials // 6  # two import trials per file
        big = soak.base / f"big-{n}.csv"
        if not big.exists():
            from tests.customer_files import rows, write_csv

            write_csv(big, rows(FILE_ROWS, start=SEED_ROWS + n * FILE_ROWS))
        proc = subprocess.Popen([sys.executable, "-m", "crm_tui.cli", "import", "customers",
                                 str(big), "--chunk-rows", str(CHUNK_ROWS), "--db",
                                 str(soak.db)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=soak.env, cwd=ROOT)
    elif kind == "approve":
        made = soak.py(_REQUESTER, PASSWORD, str(soak.trials * 10), "6")
        out, _ = made.communicate()
        proc = soak.py(_APPROVER, PASSWORD, *out.split())
    else:
        proc = subprocess.Popen([sys.executable, "-m", "crm_tui.cli", "keys", "rotate",
                                 "--batch", "7", "--db", str(soak.db)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=soak.env, cwd=ROOT)
    # Kill while it works, not while Python starts (seconds on a loaded machine): wait for
    # its first audit event of real work (a stored chunk, a decision, a key rotation step),
    # then a moment.
    _wait_for_work(soak, proc, WORK[kind], timeout=120)
    time.sleep(rnd.uniform(0.0, 3.0))
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    soak.check(kind)


# The first event of each kind's real work (a login is not work: killing after it decides nothing).
WORK = {"import": "customer.import", "approve": "approval.approve", "rotate": "keys.rotate%"}


def _events(db: Path, action: str) -> int:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM audit_event WHERE action LIKE ?",
                                (action,)).fetchone()[0])
    finally:
        conn.close()


def _wait_for_work(soak: Soak, proc: subprocess.Popen[str] | subprocess.Popen[bytes],
                   action: str, timeout: float) -> None:
    start, deadline = _events(soak.db, action), time.monotonic() + timeout
    while (proc.poll() is None and time.monotonic() < deadline
           and _events(soak.db, action) == start):
        time.sleep(0.1)


def run(trials: int, seed: int = 7, base: Path | None = None) -> Soak:
    rnd = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="crm-soak-") as tmp:
        soak = setup(Path(base or tmp))
        for _ in range(trials):
            trial(soak, rnd)
            if soak.trials % 10 == 0:
                print(f"{soak.trials} trials, {len(soak.failures)} failures, "
                      f"{soak.customers} customers, {soak.decided} decisions", flush=True)
    return soak


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    soak = run(trials)
    for f in soak.failures:
        print("FAIL", f)
    print(f"soak: {soak.trials} SIGKILL trials (import, approval decisions, key rotation), "
          f"{len(soak.failures)} failures, {soak.customers} customers and {soak.decided} "
          f"approval decisions at the end")
    sys.exit(1 if soak.failures else 0)


if __name__ == "__main__":
    main()
