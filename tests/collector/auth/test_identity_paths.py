"""Agent identity, one implementation on two paths: every scenario gives the same answers and leaves the
same rows whether its requests come through the ingest writer's group or through the other agent
endpoints (collector/api/deps.py), on both databases.

Each scenario is a list of requests (which credential, which machine, when), run on a fresh
database once per path; what is compared is each request's answer (admitted, 401 or 409) and the
identity tables afterwards (machines with their first and last sighting and clone mark, rotated-out
credentials).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import HTTPException
from sqlalchemy import Engine, select, update

from collector.api.deps import current_agent
from collector.auth.identity import PREVIOUS_TOKEN_GRACE, rotate_credential
from collector.auth.tokens import hash_secret
from collector.db.engine import as_utc, session_factory
from collector.db.models import AgentIncarnation, AgentPreviousToken, AgentRow
from collector.ingest.group import Job, prepare, run_group
from collector.ingest.statements import for_engine
from config.wire import Report
from tests.collector_db import NOW, Harness, report_body

H = timedelta(hours=1)
# A request: (credential: "current" | "old" | "unknown", machine incarnation or None, hours after NOW)
Request = tuple[str, str | None, float]
SCENARIOS: dict[str, tuple[list[Request], dict[str, Any]]] = {
    "one machine, many nights": ([("current", "A", 0), ("current", "A", 24), ("current", "A", 48)], {}),
    "no incarnation sent": ([("current", None, 0), ("current", None, 1)], {}),
    "unknown credential": ([("unknown", "A", 0)], {}),
    "a reboot": ([("current", "A", 0), ("current", "B", 1), ("current", "B", 2)], {}),
    "a clone: the newer machine is told": (
        [("current", "A", 0), ("current", "B", 1), ("current", "A", 2), ("current", "B", 3),
         ("current", "A", 4)], {}),
    "rotated: the old credential until the new one is used": (
        [("old", "A", 1), ("current", "A", 2), ("old", "A", 3)], {"rotated": True}),
    "rotated: the old credential past its grace": (
        [("old", "A", PREVIOUS_TOKEN_GRACE / H + 1)], {"rotated": True}),
    "revoked": ([("current", "A", 0)], {"revoked": True}),
}


def _setup(engine: Engine, rotated: bool = False, revoked: bool = False) -> dict[str, str]:
    """A school's enrolled agent: its credentials by kind."""
    harness = Harness(engine)
    tokens = {"current": harness.enroll(), "unknown": "sa_" + uuid.uuid4().hex}
    with session_factory(engine)() as s:
        agent = s.scalars(select(AgentRow)).one()
        if rotated:
            tokens["old"] = tokens["current"]
            tokens["current"] = rotate_credential(s, agent, NOW).token
        if revoked:
            s.execute(update(AgentRow).values(revoked_at=NOW))
        s.commit()
    return tokens


def _through_group(engine: Engine, token: str, inc: str | None, at: datetime) -> str:
    report = Report.model_validate(report_body(taken_at=at))
    job = Job(token_hash=hash_secret(token), incarnation=inc, now=at, reports=[prepare(report, at)],
              single=True)
    sql = for_engine(engine)
    conn = engine.raw_connection()
    try:
        cur = conn.cursor()
        (outcome,) = run_group(sql, cur, [job])
        cur.close()
        conn.commit()
    finally:
        conn.close()
    return "ok" if outcome.error is None else str(outcome.error.status)


def _through_endpoints(engine: Engine, token: str, inc: str | None, at: datetime) -> str:
    with session_factory(engine)() as session:
        try:
            current_agent(session, token, at, inc)
        except HTTPException as refused:
            return str(refused.status_code)
        session.commit()
    return "ok"


def _identity_rows(engine: Engine) -> tuple[list[tuple[Any, ...]], int]:
    with session_factory(engine)() as s:
        machines = [(m.incarnation, as_utc(m.first_seen_at), as_utc(m.last_seen_at),
                     None if m.clone_detected_at is None else as_utc(m.clone_detected_at))
                    for m in s.scalars(select(AgentIncarnation).order_by(AgentIncarnation.incarnation))]
        previous = len(s.scalars(select(AgentPreviousToken)).all())  # rotated-out credentials kept
    return machines, previous


def _play(engine: Engine, path: Callable[[Engine, str, str | None, datetime], str],
          steps: list[Request], setup: dict[str, Any]) -> tuple[list[str], Any]:
    tokens = _setup(engine, **setup)
    answers = [path(engine, tokens[kind], inc, NOW + hours * H) for kind, inc, hours in steps]
    return answers, _identity_rows(engine)


EXPECTED = {  # the answers, written from the rules (collector/auth/identity.py)
    "one machine, many nights": ["ok", "ok", "ok"],
    "no incarnation sent": ["ok", "ok"],
    "unknown credential": ["401"],
    "a reboot": ["ok", "ok", "ok"],
    "a clone: the newer machine is told": ["ok", "ok", "ok", "409", "ok"],
    "rotated: the old credential until the new one is used": ["ok", "ok", "401"],
    "rotated: the old credential past its grace": ["401"],
    "revoked": ["401"],
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_identity_scenario_goes_the_same_way_on_both_paths(name: str, db_url: str) -> None:
    from collector.db.engine import create_schema, make_engine

    steps, setup = SCENARIOS[name]
    results = []
    for path in (_through_group, _through_endpoints):
        engine = make_engine(db_url)
        create_schema(engine)
        try:
            with engine.begin() as conn:  # a fresh database for each path
                for table in ("agent_incarnations", "agent_previous_tokens", "sample_sets", "reports",
                              "school_wifi", "school_columns", "school_verdicts", "enroll_uses",
                              "agents", "enroll_codes", "api_tokens", "schools"):
                    conn.exec_driver_sql(f"DELETE FROM {table}")
            results.append(_play(engine, path, steps, setup))
        finally:
            engine.dispose()
    (group_answers, group_rows), (endpoint_answers, endpoint_rows) = results
    assert group_answers == EXPECTED[name]
    assert endpoint_answers == group_answers
    assert endpoint_rows == group_rows
    if name.startswith("rotated: the old credential until"):
        assert group_rows[1] == 0  # dropped once the new one was used
    if name.startswith("a clone"):
        machines = {inc: clone for inc, _, _, clone in group_rows[0]}
        assert machines["A"] is None and machines["B"] == NOW + 2 * H  # the newer one, when A came back


# --- two copies of one identity, in every order of events -----------------------------------------

def _lineage(machine: str, boot: int) -> str:
    """An incarnation header ``LINEAGE.BOOT`` for one copy (``machine``) at one of its boots."""
    lineage = hashlib.sha256(machine.encode()).hexdigest()[:24]
    return f"{lineage}.{hashlib.sha256(f'{machine}/{boot}'.encode()).hexdigest()[:24]}"


def _events(machine: str) -> list[tuple[str, str]]:
    """One copy's life: it posts, reboots, posts, posts (a reboot changes only the boot part)."""
    return [(machine, "post"), (machine, "reboot"), (machine, "post"), (machine, "post")]


def _interleavings(a: list[Any], b: list[Any]) -> list[list[Any]]:
    if not a or not b:
        return [a + b]
    return [[a[0], *rest] for rest in _interleavings(a[1:], b)] + \
           [[b[0], *rest] for rest in _interleavings(a, b[1:])]


ORDERS = _interleavings(_events("original"), _events("clone"))  # 70 orders of the two lives


def _live(engine: Engine, path: Callable[[Engine, str, str | None, datetime], str], token: str,
          order: list[tuple[str, str]]) -> dict[str, list[str]]:
    boots = {"original": 0, "clone": 0}
    answers: dict[str, list[str]] = {"original": [], "clone": []}
    for step, (machine, what) in enumerate(order):
        if what == "reboot":
            boots[machine] += 1
            continue
        at = NOW + step * H
        answers[machine].append(path(engine, token, _lineage(machine, boots[machine]), at))
    return answers


def _fresh(db_url: str) -> Engine:
    from collector.db.engine import create_schema, make_engine

    engine = make_engine(db_url)
    create_schema(engine)
    with engine.begin() as conn:
        for table in ("agent_incarnations", "agent_previous_tokens", "sample_sets", "reports", "school_wifi",
                      "school_columns", "school_verdicts", "enroll_uses", "agents", "enroll_codes",
                      "api_tokens", "schools"):
            conn.exec_driver_sql(f"DELETE FROM {table}")
    return engine


@pytest.mark.parametrize("path", [_through_group, _through_endpoints], ids=["ingest", "endpoints"])
def test_the_enrolled_machine_keeps_its_identity_in_every_order_of_events(path: Any, db_url: str) -> None:
    """The original enrols (its incarnation sent with the enrolment); a clone of its disk appears.
    In each of the 70 orders of their posts and reboots, every post of the original is taken and every
    post of the clone refused (409), reboots of either side included."""
    engine = _fresh(db_url)
    try:
        harness = Harness(engine)
        token = harness.enroll(incarnation=_lineage("original", 0))
        for i, order in enumerate(ORDERS):
            with engine.begin() as conn:  # the same enrolment each time: forget the machines seen
                conn.exec_driver_sql("DELETE FROM agent_incarnations WHERE incarnation <> ?"
                                     if engine.dialect.name == "sqlite" else
                                     "DELETE FROM agent_incarnations WHERE incarnation <> %s",
                                     (_owner_key(),))
            answers = _live(engine, path, token, order)
            assert answers == {"original": ["ok"] * 3, "clone": ["409"] * 3}, (i, order)
    finally:
        engine.dispose()


def _owner_key() -> str:
    return "m:" + _lineage("original", 0).split(".")[0]


@pytest.mark.parametrize("path", [_through_group, _through_endpoints], ids=["ingest", "endpoints"])
def test_without_the_enrolment_the_first_copy_seen_keeps_it_and_two_copies_on_one_boot_differ(
        path: Any, db_url: str) -> None:
    engine = _fresh(db_url)
    try:
        token = Harness(engine).enroll()  # an agent that did not send its incarnation when enrolling
        for order in ORDERS:
            with engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM agent_incarnations")
            answers = _live(engine, path, token, order)
            first = order[0][0]
            other = "clone" if first == "original" else "original"
            assert answers == {first: ["ok"] * 3, other: ["409"] * 3}, order
        # Two copies of the state directory on one machine, at the same boot: two lineages, one boot part.
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM agent_incarnations")
        boot = hashlib.sha256(b"one boot").hexdigest()[:24]
        first, second = (f"{hashlib.sha256(c).hexdigest()[:24]}.{boot}" for c in (b"/var/lib/a", b"/srv/b"))
        assert [path(engine, token, inc, NOW + i * H) for i, inc in enumerate((first, second, first))] == \
            ["ok", "409", "ok"]
    finally:
        engine.dispose()
