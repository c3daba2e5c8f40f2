"""Migrations: the schema comes from Alembic on SQLite and PostgreSQL, in step with the models."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from collector.db import create_schema, make_engine
from collector.migrations import current_revision, head_revision, pending_changes, upgrade
from collector.models import Base

TABLES = {"schools", "enroll_codes", "agents", "api_tokens", "reports", "measurements"}


def test_migrations_make_every_table_and_match_the_models(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision()
    # Autogenerate finds nothing to add: every model change has its migration.
    assert pending_changes(engine) == []


def test_upgrade_twice_is_a_no_op(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision()


def test_a_database_made_before_migrations_is_adopted(tmp_path: Path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    Base.metadata.create_all(eng, tables=[Base.metadata.tables[t] for t in TABLES])
    create_schema(eng)
    with eng.connect() as conn:
        assert current_revision(conn) == head_revision()
    eng.dispose()


def _migrate(url: str) -> None:
    eng = make_engine(url)
    upgrade(eng)
    eng.dispose()


@pytest.mark.slow
def test_processes_starting_together_do_not_race(db_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_migrate, args=(db_url,)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    eng = make_engine(db_url)
    with eng.connect() as conn:
        assert current_revision(conn) == head_revision()
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    eng.dispose()
