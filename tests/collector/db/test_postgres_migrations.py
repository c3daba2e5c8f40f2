"""Migrations: the schema comes from Alembic on SQLite and PostgreSQL, in step with the models."""

from __future__ import annotations

import json
import multiprocessing
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, column, inspect, select, table, text
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.types import JSON, DateTime, Float, String

from collector.dashboard.school import latest_payload
from collector.db.engine import create_schema, make_engine
from collector.db.migrations import (
    INITIAL_REVISION,
    alembic_config,
    current_revision,
    head_revision,
    pending_changes,
    upgrade,
)
from collector.db.models import ReportRow
from collector.db.sample_sets import school_samples
from collector.wifi.school import wifi_query
from config.readiness import Sample

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TABLES = {"schools", "enroll_codes", "agents", "api_tokens", "reports", "sample_layouts", "sample_sets"}


def test_migrations_make_every_table_and_match_the_models(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision()
    # Autogenerate finds nothing to add: every model change has its migration.
    assert pending_changes(engine) == []


@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_payloads_are_compressed_with_lz4_on_postgresql(engine: Engine) -> None:
    with engine.connect() as conn:
        offered = conn.scalar(text("SELECT enumvals FROM pg_settings "
                                   "WHERE name = 'default_toast_compression'"))
        method = conn.scalar(text("SELECT attcompression FROM pg_attribute "
                                  "WHERE attrelid = 'reports'::regclass AND attname = 'payload'"))
    assert method == ("l" if "lz4" in offered else "")  # l: lz4; empty: the server's default (pglz)


@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_a_compressed_nightly_payload_stays_in_its_row_on_postgresql(engine: Engine) -> None:
    """Revision 0010: a payload of 8 kB that compresses to 3 kB (as a nightly report's does) stays in its
    row; at PostgreSQL's default target of 2 kB it went to the TOAST relation."""
    payload = {"noise": os.urandom(1500).hex(), "filler": "x" * 5000}  # 8 kB, lz4 or pglz: about 3 kB
    with engine.begin() as conn:
        options = conn.scalar(text("SELECT reloptions FROM pg_class WHERE oid = 'reports'::regclass"))
        assert "toast_tuple_target=4080" in options
        conn.execute(text("INSERT INTO schools (uai, name, commune, created_at) "
                          "VALUES ('0350122T', 'x', 'x', :t)"), {"t": NOW})
        conn.execute(text("INSERT INTO agents (agent_id, school_uai, room, token_hash, instance_id, "
                          "hostname, agent_version, enrolled_at) "
                          "VALUES ('a1', '0350122T', 'CM1', 'h', 'i', 'pc1', '0', :t)"), {"t": NOW})
        conn.execute(text("INSERT INTO reports (report_id, agent_id, school_uai, room, taken_at, "
                          "received_at, payload) VALUES ('r1', 'a1', '0350122T', 'CM1', :t, :t, :p)"),
                     {"t": NOW, "p": json.dumps(payload)})
        stored, size = conn.execute(text("SELECT pg_column_size(payload), octet_length(payload) "
                                         "FROM reports")).one()
        toast = conn.scalar(text("SELECT pg_relation_size(reltoastrelid) FROM pg_class "
                                 "WHERE oid = 'reports'::regclass"))
    assert size > 8000 and 2100 < stored < 4080, (size, stored)  # compressed, above the default target
    assert toast == 0  # and kept in the row


def test_upgrade_twice_is_a_no_op(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision()


def test_a_database_made_before_migrations_is_adopted(tmp_path: Path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with eng.connect() as conn:  # the first schema, as create_all made it: no migration history
        command.upgrade(alembic_config(conn), INITIAL_REVISION)
        conn.execute(text("DROP TABLE alembic_version"))
        conn.commit()
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


def _table(name: str, *cols: tuple[str, Any]) -> TableClause:
    return table(name, *(column(c, t) for c, t in cols))


def test_samples_stored_one_row_each_move_into_sample_sets(db_url: str) -> None:
    """A database at revision 0004 with samples in ``measurements``: after the upgrade every sample is
    in its report's set, with its time, room, device and limit, and ``measurements`` is gone."""
    eng = make_engine(db_url)
    with eng.connect() as conn:
        command.upgrade(alembic_config(conn), "0004")
        conn.commit()
    ts = DateTime(timezone=True)
    schools = _table("schools", ("uai", String), ("name", String), ("commune", String), ("created_at", ts))
    agents = _table("agents", ("agent_id", String), ("school_uai", String), ("room", String),
                    ("token_hash", String), ("instance_id", String), ("hostname", String),
                    ("agent_version", String), ("enrolled_at", ts))
    reports = _table("reports", ("report_id", String), ("agent_id", String), ("school_uai", String),
                     ("room", String), ("taken_at", ts), ("received_at", ts), ("payload", JSON))
    measurements = _table("measurements", ("report_id", String), ("school_uai", String), ("room", String),
                          ("device", String), ("metric", String), ("value", Float), ("taken_at", ts),
                          ("limited_by", String))
    first, second = NOW - timedelta(days=2), NOW - timedelta(days=1)
    expected = [Sample("bandwidth.download_mbps", 41.5, first, "CM1", "pc1#aa", "cpu"),
                Sample("device.ram_total_gb", 7.88, first, "CM1", "pc1#aa"),
                Sample("wifi.signal_dbm", -61.0, second - timedelta(minutes=5), "CE2", "pc2#bb"),
                Sample("wifi.signal_dbm", -70.0, second - timedelta(minutes=3), "CE2", "pc2#bb"),
                Sample("wifi.security_level", 3.0, second, "CE2", "pc2#bb")]
    with eng.begin() as conn:
        conn.execute(schools.insert(), [{"uai": "0350122T", "name": "x", "commune": "x",
                                         "created_at": NOW}])
        conn.execute(agents.insert(), [{"agent_id": "a1", "school_uai": "0350122T", "room": "CM1",
                                        "token_hash": "h", "instance_id": "i", "hostname": "pc1",
                                        "agent_version": "0", "enrolled_at": NOW}])
        conn.execute(reports.insert(), [
            {"report_id": rid, "agent_id": "a1", "school_uai": "0350122T", "room": room, "taken_at": at,
             "received_at": NOW, "payload": {}}
            for rid, room, at in (("r1", "CM1", first), ("r2", "CE2", second))])
        conn.execute(measurements.insert(), [
            {"report_id": "r1" if x.room == "CM1" else "r2", "school_uai": "0350122T", "room": x.room,
             "device": x.device, "metric": x.metric, "value": x.value, "taken_at": x.taken_at,
             "limited_by": x.limited_by} for x in expected])
    upgrade(eng)
    with eng.connect() as conn:
        assert "measurements" not in inspect(conn).get_table_names()
        assert school_samples(conn, "0350122T", NOW - timedelta(days=30)) == expected
        assert conn.execute(text("SELECT count(*) FROM sample_sets")).scalar_one() == 2
    eng.dispose()


PAYLOAD = {"spool": {"depth": 2, "dropped_total": 0}, "room": "Salle d'étude", "values": [1.5, None, True]}


def _indexes(conn: Any, name: str) -> set[tuple[str, ...]]:
    found = inspect(conn)
    return ({tuple(i["column_names"]) for i in found.get_indexes(name) if not i.get("duplicates_constraint")}
            | {("unique", *u["column_names"]) for u in found.get_unique_constraints(name)})


def test_reports_and_sets_keep_only_the_indexes_read_and_the_downgrade_gives_them_back(db_url: str) -> None:
    """Revisions 0008 and 0009: reports indexed by school and time only, sets by school and time only,
    payloads as text on PostgreSQL; their rows kept both ways."""
    eng = make_engine(db_url)
    create_schema(eng)
    ts = DateTime(timezone=True)
    schools = _table("schools", ("uai", String), ("name", String), ("commune", String), ("created_at", ts))
    agents = _table("agents", ("agent_id", String), ("school_uai", String), ("room", String),
                    ("token_hash", String), ("instance_id", String), ("hostname", String),
                    ("agent_version", String), ("enrolled_at", ts))
    with eng.begin() as conn:
        conn.execute(schools.insert(), [{"uai": "0350122T", "name": "x", "commune": "x", "created_at": NOW}])
        conn.execute(agents.insert(), [{"agent_id": "a1", "school_uai": "0350122T", "room": "CM1",
                                        "token_hash": "h", "instance_id": "i", "hostname": "pc1",
                                        "agent_version": "0", "enrolled_at": NOW}])
        conn.execute(text("INSERT INTO reports (report_id, agent_id, school_uai, room, taken_at, "
                          "received_at, payload) VALUES ('r1', 'a1', '0350122T', 'CM1', :t, :t, :p)"),
                     {"t": NOW, "p": json.dumps(PAYLOAD)})
        conn.execute(text("INSERT INTO sample_layouts (digest, metrics) VALUES ('d', 'm')"))
        conn.execute(text("INSERT INTO sample_sets (report_id, school_uai, room, device, taken_us, layout, "
                          "vals) VALUES ('r1', '0350122T', 'CM1', 'pc1#aa', 1, 'd', :v)"), {"v": b"\0" * 8})
    with eng.connect() as conn:
        assert _indexes(conn, "reports") == {("school_uai", "taken_at", "agent_id")}
        assert _indexes(conn, "sample_sets") == {("school_uai", "taken_us")}
        assert conn.scalar(select(ReportRow.payload)) == PAYLOAD
        command.downgrade(alembic_config(conn), "0007")
        conn.commit()
    with eng.connect() as conn:
        assert _indexes(conn, "reports") == {("agent_id",), ("school_uai",)}
        assert _indexes(conn, "sample_sets") == {("school_uai", "taken_us"), ("unique", "report_id")}
        assert conn.execute(text("SELECT count(*) FROM sample_sets")).scalar_one() == 1
        raw = conn.scalar(text("SELECT payload FROM reports"))  # json again on PostgreSQL: read as a dict
        assert (json.loads(raw) if isinstance(raw, str) else raw) == PAYLOAD
    upgrade(eng)
    with eng.connect() as conn:
        assert _indexes(conn, "sample_sets") == {("school_uai", "taken_us")}
        assert conn.execute(text("SELECT report_id FROM sample_sets")).scalar_one() == "r1"
        assert conn.execute(text("SELECT count(*) FROM reports")).scalar_one() == 1
        assert conn.scalar(select(ReportRow.payload)) == PAYLOAD
    eng.dispose()


def test_the_reads_of_a_schools_reports_go_through_its_index(tmp_path: Path) -> None:
    """The school page's latest report per agent and the school's Wi-Fi history (what the indexes gone
    in revision 0008 could serve) read ix_reports_school_time, not the whole table (SQLite's plan)."""
    eng = make_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    create_schema(eng)
    since = NOW - timedelta(days=30)
    with eng.connect() as conn:
        for query in (latest_payload("0350122T", "a1"), wifi_query("0350122T", since)):
            compiled = query.compile(eng, compile_kwargs={"literal_binds": True})
            plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
            assert "USING INDEX ix_reports_school_time" in plan, plan
            assert "TEMP B-TREE" not in plan, plan  # read in the index's order: no sort
    eng.dispose()
