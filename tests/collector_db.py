"""Database fixtures for collector tests: the same test runs on SQLite and on PostgreSQL.

tests/conftest.py registers the fixtures for every module: ask for ``db_url``,
``engine`` (a migrated engine) or ``harness``. The PostgreSQL leg uses
the server named by ``SOCLE_TEST_PG_URL`` (default: the local server's ``test``
database), a fresh schema per test (so runs on this shared machine never clash),
and is skipped with the reason when the server does not answer.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, make_url, text

from collector.app import create_app
from collector.auth.credentials import create_api_token, create_enroll_code
from collector.db.engine import create_schema, make_engine, session_factory
from collector.schools.records import upsert_school
from config.collector_settings import CollectorSettings
from config.uai import check_letter
from config.wire import SchoolPublic

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
_counter = itertools.count()
_pg_problem: list[str] = []  # the reason PostgreSQL is unusable, found once per session


def pg_base_url() -> str:
    """The PostgreSQL URL the tests use."""
    return os.environ.get("SOCLE_TEST_PG_URL", DEFAULT_PG_URL)


def _ensure_database(url: str) -> str | None:
    """Make sure the database in ``url`` exists; the reason it cannot be used, or None."""
    if _pg_problem:
        return _pg_problem[0]
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _pg_problem.append("psycopg is not installed (pip install './packaging/collector[postgres]')")
        return _pg_problem[0]
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # noqa: BLE001 - any failure: try to create the database, else skip
        first = exc
    finally:
        engine.dispose()
    parsed = make_url(url)
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        return None
    except Exception:  # noqa: BLE001
        _pg_problem.append(f"PostgreSQL at {parsed.render_as_string()} is unreachable: "
                           f"{type(first).__name__}: {str(first).splitlines()[0] if str(first) else ''}")
        return _pg_problem[0]
    finally:
        admin.dispose()


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(name="db_url", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url_fixture(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database's URL: a new SQLite file, or a new schema on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'socle.db'}"
        return
    base = pg_base_url()
    problem = _ensure_database(base)
    if problem:
        pytest.skip(problem)
    schema = f"socle_test_{os.getpid()}_{next(_counter)}"
    admin = make_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield _pg_schema_url(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(name="engine")
def engine_fixture(db_url: str) -> Iterator[Engine]:
    """A migrated engine on the test's database (both legs), disposed afterwards."""
    eng = make_engine(db_url)
    create_schema(eng)
    try:
        yield eng
    finally:
        eng.dispose()


NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

# Three real-looking schools: two communes of Ille-et-Vilaine, one in Finistère (with their communes'
# INSEE codes).
SCHOOLS = (
    SchoolPublic(uai="0350122T", name="Les Lucioles", commune="Baulon", commune_code="35016",
                 departement="035", academie="Rennes", pupils=143),
    SchoolPublic(uai="0350127Y", name="Autre école", commune="Bruz", commune_code="35047", departement="035",
                 academie="Rennes"),
    SchoolPublic(uai=f"0290001{check_letter('0290001')}", name="École de Brest", commune="Brest",
                 commune_code="29019", departement="029", academie="Rennes"),
)


def auth(token: str) -> dict[str, str]:
    """The Authorization header for a bearer token."""
    return {"Authorization": f"Bearer {token}"}


def report_body(uai: str = "0350122T", down: float = 20.0, taken_at: datetime | None = None,
                **kw: object) -> dict[str, object]:
    """A realistic report as an agent posts it."""
    body: dict[str, object] = {
        "report_id": str(uuid.uuid4()), "agent_version": "0.1.0",
        "device": {"instance_id": str(uuid.uuid4()), "hostname": "pc-cm1"},
        "school_uai": uai, "room": "CM1",
        "taken_at": (taken_at or NOW - timedelta(hours=7)).isoformat(),
        "results": [
            {"probe": "device", "status": "ok", "duration_s": 0.1,
             "measurement": {"kind": "device", "ram_total_gb": 8.2, "cpu_cores_logical": 4}},
            {"probe": "latency", "status": "ok", "duration_s": 0.5,
             "measurement": {"kind": "latency", "target": "http://c/healthz", "samples_sent": 10,
                             "samples_ok": 10, "rtt_median_ms": 18.0, "jitter_ms": 3, "loss_pct": 0}},
            {"probe": "bandwidth", "status": "ok", "duration_s": 20,
             "measurement": {"kind": "bandwidth", "server": "wss://collector/ndt/v7",
                             "download_mbps": down, "upload_mbps": 4.0}},
        ],
    }
    body.update(kw)
    return body


class Harness:
    """A collector app in process on a test database, with helpers to make schools and credentials."""

    def __init__(self, engine: Engine, settings: CollectorSettings | None = None) -> None:
        self.engine = engine
        self.app = create_app(settings or CollectorSettings(), engine=engine, clock=lambda: NOW)
        self.client = TestClient(self.app, raise_server_exceptions=False)
        self.sessions = session_factory(engine)
        with self.sessions() as s:
            for school in SCHOOLS:
                upsert_school(s, school, NOW)
            s.commit()

    def token(self, role: str, scope: str = "all", ttl: timedelta | None = None) -> str:
        """A new API token."""
        with self.sessions() as s:
            token = create_api_token(s, role, NOW, scope, None, ttl)
            s.commit()
        return token

    def enroll(self, uai: str = "0350122T", incarnation: str | None = None) -> str:
        """Enrol an agent to a school (from the machine ``incarnation`` names, when given); its credential."""
        with self.sessions() as s:
            code = create_enroll_code(s, uai, NOW, timedelta(hours=1))
            s.commit()
        resp = self.client.post("/api/v1/enroll", json={
            "code": code, "room": "CM1", "agent_version": "0.1.0",
            "device": {"instance_id": str(uuid.uuid4()), "hostname": "pc-cm1"}},
            headers={"X-Socle-Incarnation": incarnation} if incarnation else {})
        assert resp.status_code == 201, resp.text
        return str(resp.json()["token"])


@pytest.fixture(name="harness")
def harness_fixture(engine: Engine) -> Harness:
    """A collector app with three schools on both database legs."""
    return Harness(engine)


@pytest.fixture(name="both_engines", scope="module")
def both_engines_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Engine]]:
    """A migrated SQLite engine and a migrated PostgreSQL engine (a schema of its own), for tests that
    hold the same input against both databases in one run."""
    base = pg_base_url()
    problem = _ensure_database(base)
    if problem:
        pytest.skip(problem)
    schema = f"socle_both_{os.getpid()}_{next(_counter)}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    lite = make_engine(f"sqlite:///{tmp_path_factory.mktemp('both') / 'socle.db'}")
    pg = make_engine(_pg_schema_url(base, schema))
    try:
        for engine in (lite, pg):
            create_schema(engine)
        yield lite, pg
    finally:
        lite.dispose()
        pg.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
