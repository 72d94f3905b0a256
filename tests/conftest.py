"""Shared fixtures: a store on SQLite and (when 127.0.0.1:5432 answers) on PostgreSQL, and a
small branch world with a staff member for every role."""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

os.environ.setdefault("CRM_LANG", "en")
os.environ.pop("CRM_KEY", None)
os.environ.pop("CRM_DATABASE_URL", None)
os.environ.pop("CRM_DEBUG", None)
# the log file of the processes under test goes to a throw-away folder, not the user's
os.environ["CRM_LOG_DIR"] = tempfile.mkdtemp(prefix="crm-test-logs-")
os.environ.pop("CRM_KEY_FILE", None)
# Keys default to the platform config dir: keep the tests' keys out of the real one.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="crm-test-config-")

from crm_tui import i18n  # noqa: E402
from crm_tui.domain.admin.auth import actor_of  # noqa: E402
from crm_tui.domain.kernel import audit  # noqa: E402
from crm_tui.domain.kernel.actor import Actor, system_actor  # noqa: E402
from crm_tui.domain.kernel.context import Crm  # noqa: E402
from crm_tui.domain.policy.document import activate_policy, default_policy_text  # noqa: E402
from crm_tui.settings import Settings, get_settings  # noqa: E402
from crm_tui.store.crypto import Keyring  # noqa: E402
from crm_tui.store.db import Database  # noqa: E402
from crm_tui.store.models import Branch, Staff, Team  # noqa: E402

PG_ADMIN_URL = os.environ.get("CRM_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse"


@cache
def pg_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            pass
        eng = create_engine(PG_ADMIN_URL)
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
        return True
    except Exception:
        return False


@cache
def password_hash() -> str:
    from crm_tui.domain.admin.auth import hash_password

    return hash_password(PASSWORD)


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Settings are cached per process; a test that changes CRM_* starts from a clean cache."""
    get_settings.cache_clear()  # type: ignore[attr-defined]
    yield
    get_settings.cache_clear()  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    i18n.set_language("en")
    yield
    i18n.set_language("en")


def _sqlite_db(tmp_path: Path) -> Database:
    return Database(f"sqlite:///{tmp_path / 'crm.db'}")


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test, dropped afterwards."""
    if not pg_available():
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is not reachable")
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_ADMIN_URL else "?"
    yield f"{PG_ADMIN_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "pg"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Database]:
    if backend == "pg":
        url = request.getfixturevalue("pg_schema_url")
        db = Database(url)
    else:
        db = _sqlite_db(tmp_path)
    SQLModel.metadata.create_all(db.write_engine)
    yield db
    db.dispose()


def make_crm(db: Database, tmp_path: Path) -> Crm:
    settings = Settings(database_url=db.url, key_file=tmp_path / "crm.key")
    crm = Crm(db, Keyring.generate(), settings, tmp_path / "crm.key")
    with db.write() as session:
        activate_policy(db, session, system_actor("test"), default_policy_text())
        # as `crm init` does: a database the product made always opens its audit chain
        audit.record(db, session, system_actor("test"), "db.init", "database", "", None,
                     {"policy": "default"})
    return crm


@pytest.fixture
def crm(database: Database, tmp_path: Path) -> Crm:
    return make_crm(database, tmp_path)


@pytest.fixture
def sqlite_crm(tmp_path: Path) -> Iterator[Crm]:
    """SQLite only: for tests about the SQLite file itself or the UI."""
    db = _sqlite_db(tmp_path)
    SQLModel.metadata.create_all(db.write_engine)
    yield make_crm(db, tmp_path)
    db.dispose()


@dataclass
class World:
    """Two branches; in BJ01 two teams. Every role has someone; rm3 is in the other team."""

    actors: dict[str, Actor]
    branches: dict[str, int]
    teams: dict[str, int]

    def __getitem__(self, username: str) -> Actor:
        return self.actors[username]


STAFF = [
    # username, name, role, branch, team
    ("rm1", "王芳", "rm", "BJ01", "财富一组"),
    ("rm2", "李娜", "rm", "BJ01", "财富一组"),
    ("rm3", "赵磊", "rm", "BJ01", "财富二组"),
    ("sup1", "陈静", "supervisor", "BJ01", "财富一组"),
    ("sup2", "周杰", "supervisor", "BJ01", "财富二组"),
    ("bh1", "刘洋", "branch_head", "BJ01", None),
    ("rm_sh", "孙丽", "rm", "SH01", "浦东一组"),
    ("sup_sh", "吴强", "supervisor", "SH01", "浦东一组"),
    ("bh_sh", "郑敏", "branch_head", "SH01", None),
    ("comp1", "黄磊", "compliance", "BJ01", None),
    ("risk1", "何军", "risk", None, None),
    ("svc1", "马丽", "service", "BJ01", None),
    ("admin", "系统管理员", "admin", None, None),
]


def build_world(crm: Crm) -> World:
    with crm.db.write() as s:
        branches = {}
        for code, name, region in (("BJ01", "北京分行营业部", "华北"),
                                   ("SH01", "上海浦东支行", "华东")):
            b = Branch(code=code, name=name, region=region)
            s.add(b)
            s.flush()
            branches[code] = b.id
        teams = {}
        for name, code in (("财富一组", "BJ01"), ("财富二组", "BJ01"), ("浦东一组", "SH01")):
            t = Team(name=name, branch_id=branches[code])
            s.add(t)
            s.flush()
            teams[name] = t.id
        actors = {}
        for username, name, role, branch, team in STAFF:
            st = Staff(username=username, display_name=name, role=role,
                       branch_id=branches.get(branch), team_id=teams.get(team),
                       password_hash=password_hash())
            s.add(st)
            s.flush()
            actors[username] = actor_of(st)
    return World(actors, branches, teams)


@pytest.fixture
def world(crm: Crm) -> World:
    return build_world(crm)


@pytest.fixture
def sqlite_world(sqlite_crm: Crm) -> World:
    return build_world(sqlite_crm)


def valid_id(prefix17: str) -> str:
    from crm_tui.domain.kernel.validation import id_check_digit

    return prefix17 + id_check_digit(prefix17)


@pytest.fixture(autouse=True)
def _steady_cursors(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Snapshots see every text cursor steady: a blinking one is drawn or not depending on
    how long the screen took to settle, which made snapshots of inputs flaky under load."""
    if "snap_compare" not in request.fixturenames:
        return
    from textual.widgets import Input

    original = Input.__init__

    def steady(self: Input, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        self.cursor_blink = False

    monkeypatch.setattr(Input, "__init__", steady)
