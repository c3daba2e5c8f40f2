"""Database fixtures for collector tests: the same test runs on SQLite and on PostgreSQL.

Use it from a test module with ``from tests.collector_db import db_url_fixture, engine_fixture  # noqa: F401``
and ask for ``engine`` (a migrated engine) or ``db_url``. The PostgreSQL leg uses
the server named by ``SOCLE_TEST_PG_URL`` (default: the local server's ``test``
database), a fresh schema per test (so runs on this shared machine never clash),
and is skipped with the reason when the server does not answer.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, make_url, text

from collector.db import create_schema, make_engine

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
        _pg_problem.append("psycopg is not installed (pip install 'socle[postgres]')")
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
