"""The ingest writer (collector/ingest/writer.py): many requests in one transaction, answered after commit."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, func, select

from collector.auth.tokens import hash_secret
from collector.db.engine import as_utc
from collector.db.models import AgentIncarnation, AgentRow, ReportRow, SampleSetRow
from collector.db.verdict_tables import SchoolVerdict
from collector.ingest import sqlite_wal
from collector.ingest import writer as ingest_writer
from collector.ingest.group import Job, Outcome, Prepared, prepare
from collector.ingest.writer import IngestWriter
from config.wire import Report
from tests.collector_db import (
    NOW,
    Harness,
    auth,
    report_body,
)


def _prepared(uai: str = "0350122T") -> Prepared:
    return prepare(Report.model_validate(report_body(uai)), NOW)


def _prepared_at(at: datetime, uai: str = "0350122T", body: dict[str, Any] | None = None) -> Prepared:
    return prepare(Report.model_validate(body or report_body(uai)), at)


def _count(engine: Engine, what: Any) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(what)) or 0)


class GatedWriter(IngestWriter):
    """A writer whose first transaction waits until the test opens the gate (in its thread; in the event
    loop, the jobs queued in one turn of the loop make the first group, and there is no gate). Its thread
    does not gather (the first job makes the first group, alone): see the gathering tests below."""

    def __init__(self, engine: Engine, in_loop: bool = False,
                 gather: tuple[int, float, float] = (0, 0.0, 0.0)) -> None:
        super().__init__(engine, idle_s=0.5, in_loop=in_loop, gather=gather)
        self.gate = threading.Event()
        if in_loop:
            self.gate.set()
        self.sizes: list[int] = []

    def _transaction(self, jobs: Sequence[Job], held: Any = None) -> list[Outcome]:
        if not self.sizes:
            self.gate.wait(10)
        self.sizes.append(len(jobs))
        return super()._transaction(jobs, held)


MODES = pytest.mark.parametrize("in_loop", [False, True], ids=["thread", "loop"])


def _run_all(writer: IngestWriter, jobs: list[Job], before: Callable[[], None] = lambda: None) -> list[Any]:
    """Submit every job from one event loop; ``before`` runs once they are all queued."""
    async def main() -> list[Any]:
        tasks = [asyncio.ensure_future(writer.run(job)) for job in jobs]
        await asyncio.sleep(0.05)  # every job is queued
        before()
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    return asyncio.run(main())


@MODES
def test_many_concurrent_requests_are_committed_in_one_group(harness: Harness, in_loop: bool) -> None:
    tokens = [harness.enroll() for _ in range(5)]
    writer = GatedWriter(harness.engine, in_loop)
    jobs = [Job(token_hash=hash_secret(tokens[i % 5]), incarnation=f"inc-{i % 5}", now=NOW,
                reports=[_prepared()]) for i in range(40)]
    outcomes = _run_all(writer, jobs, writer.gate.set)
    assert [o.statuses for o in outcomes] == [["stored"]] * 40
    if in_loop:
        assert writer.sizes == [40]  # all queued in one turn of the loop
    else:
        assert writer.sizes[0] == 1 and sum(writer.sizes) == 40 and len(writer.sizes) <= 3
    assert _count(harness.engine, ReportRow) == 40
    assert _count(harness.engine, SampleSetRow) == 40  # each report's samples in one set
    with harness.sessions() as s:
        verdict = s.get(SchoolVerdict, "0350122T")
        assert verdict is not None and verdict.reports == 40  # each stored report counted once
        assert all(a.last_seen_at is not None for a in s.scalars(select(AgentRow)))
    writer.stop()


def _spaced(writer: IngestWriter, jobs: list[Job], gap_s: float) -> tuple[list[Any], list[float]]:
    """Submit jobs one every ``gap_s`` from one event loop; their outcomes, and how long each waited."""
    async def one(job: Job) -> tuple[Any, float]:
        t0 = asyncio.get_running_loop().time()
        outcome = await writer.run(job)
        return outcome, asyncio.get_running_loop().time() - t0

    async def main() -> list[tuple[Any, float]]:
        tasks = []
        for job in jobs:
            tasks.append(asyncio.ensure_future(one(job)))
            await asyncio.sleep(gap_s)
        return list(await asyncio.gather(*tasks))

    done = asyncio.run(main())
    return [o for o, _ in done], [t for _, t in done]


def test_the_thread_gathers_jobs_that_keep_coming(harness: Harness) -> None:
    """Jobs that come within the gap of each other make one group, up to the group's size."""
    token = hash_secret(harness.enroll())
    writer = GatedWriter(harness.engine, gather=(6, 10.0, 1.0))
    writer.gate.set()
    jobs = [Job(token_hash=token, incarnation="inc", now=NOW, reports=[_prepared()]) for _ in range(8)]
    outcomes, _ = _spaced(writer, jobs, 0.05)
    assert [o.statuses for o in outcomes] == [["stored"]] * 8
    assert writer.sizes[0] == 6 and sum(writer.sizes) == 8  # the first group stopped at its size
    assert _count(harness.engine, ReportRow) == 8
    writer.stop()


def test_the_thread_does_not_wait_for_jobs_that_do_not_come(harness: Harness) -> None:
    """A lone job waits the gap once, not the whole gathering time; jobs further apart than the gap
    make groups of their own."""
    token = hash_secret(harness.enroll())
    writer = GatedWriter(harness.engine, gather=(64, 30.0, 0.2))
    writer.gate.set()
    jobs = [Job(token_hash=token, incarnation=None, now=NOW, reports=[_prepared()]) for _ in range(2)]
    outcomes, waited = _spaced(writer, jobs, 1.5)
    assert [o.statuses for o in outcomes] == [["stored"]] * 2
    assert writer.sizes == [1, 1]
    assert max(waited) < 1.2  # the gap (0.2 s) and a commit, far from the 30 s of a whole group


@MODES
def test_the_same_report_twice_in_one_group_is_stored_once(harness: Harness, in_loop: bool) -> None:
    token = hash_secret(harness.enroll())
    writer = GatedWriter(harness.engine, in_loop)
    first, other = _prepared(), _prepared()
    jobs = [Job(token_hash=token, incarnation=None, now=NOW, reports=[other]),
            Job(token_hash=token, incarnation=None, now=NOW, reports=[first]),
            Job(token_hash=token, incarnation=None, now=NOW, reports=[first, first])]
    outcomes = _run_all(writer, jobs, writer.gate.set)
    assert [o.statuses for o in outcomes] == [["stored"], ["stored"], ["duplicate", "duplicate"]]
    assert writer.sizes == ([3] if in_loop else [1, 2])  # the two copies were in the same transaction
    assert _count(harness.engine, ReportRow) == 2
    with harness.sessions() as s:
        verdict = s.get(SchoolVerdict, "0350122T")
        assert verdict is not None and verdict.reports == 2
    writer.stop()


def test_only_the_reports_stored_get_a_set_a_count_and_their_agent_seen(harness: Harness) -> None:
    """What follows a report's insert happens only for the reports inserted: a copy of one stored in an
    earlier group gets no second set, no second count and does not move its agent's last_seen_at; a
    report with nothing numeric is stored and counted without a set; a request whose only report is for
    another school still marks its machine seen (both databases; PostgreSQL does it in one statement)."""
    a, b = hash_secret(harness.enroll()), hash_secret(harness.enroll())
    t1, t2, t3 = NOW - timedelta(hours=3), NOW - timedelta(hours=2), NOW - timedelta(hours=1)
    first = report_body()
    writer = GatedWriter(harness.engine)
    writer.gate.set()
    group1 = [Job(token_hash=a, incarnation="machine-a", now=t1, reports=[_prepared_at(t1, body=first)]),
              Job(token_hash=b, incarnation="machine-b", now=t1, reports=[_prepared_at(t1)])]
    assert [o.statuses for o in _run_all(writer, group1)] == [["stored"], ["stored"]]
    bare = _prepared_at(t2, body=report_body(results=[]))
    assert bare.samples is None
    group2 = [Job(token_hash=a, incarnation="machine-a", now=t2, reports=[bare]),
              Job(token_hash=a, incarnation="machine-a", now=t3, reports=[_prepared_at(t3, body=first)]),
              Job(token_hash=b, incarnation="machine-b", now=t3, reports=[_prepared_at(t3, "0350127Y")])]
    writer.sizes.clear()
    outcomes = _run_all(writer, group2)
    assert writer.sizes == [3]  # one transaction
    assert outcomes[0].statuses == ["stored"] and outcomes[1].statuses == ["duplicate"]
    assert [s.status for s in outcomes[2].statuses] == [403]  # type: ignore[union-attr]
    assert _count(harness.engine, ReportRow) == 3
    assert _count(harness.engine, SampleSetRow) == 2  # the bare report has none; the copy no second one
    with harness.sessions() as s:
        verdict = s.get(SchoolVerdict, "0350122T")
        assert verdict is not None and verdict.reports == 3
        seen = {row.token_hash: as_utc(row.last_seen_at) for row in s.scalars(select(AgentRow))}
        assert seen == {a: t2, b: t1}  # a: its bare report (not the copy at t3); b: nothing stored since t1
        machines = {i.incarnation: as_utc(i.last_seen_at) for i in s.scalars(select(AgentIncarnation))}
        assert machines == {"machine-a": t3, "machine-b": t3}
    writer.stop()


@MODES
def test_a_request_whose_insert_fails_drops_no_other(harness: Harness, in_loop: bool) -> None:
    token = hash_secret(harness.enroll())
    writer = GatedWriter(harness.engine, in_loop)
    bad = _prepared()
    assert bad.samples is not None
    bad.samples = dataclasses.replace(bad.samples, vals=None)  # type: ignore[arg-type]  # NOT NULL: fails
    good = [_prepared() for _ in range(3)]
    jobs = [Job(token_hash=token, incarnation=None, now=NOW, reports=[_prepared()]),
            Job(token_hash=token, incarnation=None, now=NOW, reports=[good[0]]),
            Job(token_hash=token, incarnation=None, now=NOW, reports=[bad]),
            Job(token_hash=token, incarnation=None, now=NOW, reports=[good[1], good[2]])]
    outcomes = _run_all(writer, jobs, writer.gate.set)
    assert outcomes[0].statuses == ["stored"]
    assert outcomes[1].statuses == ["stored"] and outcomes[3].statuses == ["stored", "stored"]
    assert isinstance(outcomes[2], Exception) and "vals" in str(outcomes[2]).lower()
    with harness.engine.connect() as conn:
        stored = set(conn.scalars(select(ReportRow.report_id)))
    assert {g.report_id for g in good} <= stored and bad.report_id not in stored and len(stored) == 4
    writer.stop()


def test_an_answer_comes_only_after_the_commit(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = harness.app.state.socle.writer
    writer.in_loop = False  # here the thread's way (SQLite's in the loop: the test below)
    token = harness.enroll()
    body = report_body()
    ran, release = threading.Event(), threading.Event()
    seen_before_commit: list[int] = []
    real = ingest_writer.run_group

    def slow_group(sql: Any, cur: Any, jobs: Sequence[Job], *rest: Any) -> list[Outcome]:
        outcomes = real(sql, cur, jobs, *rest)
        ran.set()
        release.wait(10)  # written, not committed
        return outcomes

    monkeypatch.setattr(ingest_writer, "run_group", slow_group)

    async def main() -> tuple[int, bool]:
        transport = httpx.ASGITransport(app=harness.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://collector") as client:
            task = asyncio.ensure_future(client.post("/api/v1/reports", json=body, headers=auth(token)))
            while not ran.is_set():
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)
            answered_early = task.done()
            seen_before_commit.append(_count(harness.engine, ReportRow))
            release.set()
            resp = await task
        return resp.status_code, answered_early

    status, answered_early = asyncio.run(main())
    assert (status, answered_early, seen_before_commit) == (201, False, [0])
    assert _count(harness.engine, ReportRow) == 1


def test_in_the_loop_an_answer_comes_only_after_the_commit(harness: Harness,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's way: the group runs in the event loop, and the request is answered after the commit."""
    writer = harness.app.state.socle.writer
    writer.in_loop = True
    token = harness.enroll()
    real = ingest_writer.run_group
    seen: list[tuple[int, bool]] = []
    tasks: list[asyncio.Future[Any]] = []

    def watched_group(sql: Any, cur: Any, jobs: Sequence[Job], *rest: Any) -> list[Outcome]:
        outcomes = real(sql, cur, jobs, *rest)
        seen.append((_count(harness.engine, ReportRow), tasks[0].done()))  # written, not committed
        return outcomes

    monkeypatch.setattr(ingest_writer, "run_group", watched_group)

    async def main() -> int:
        transport = httpx.ASGITransport(app=harness.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://collector") as client:
            tasks.append(asyncio.ensure_future(client.post("/api/v1/reports", json=report_body(),
                                                           headers=auth(token))))
            return (await tasks[0]).status_code

    assert asyncio.run(main()) == 201
    assert seen == [(0, False)]  # nothing visible, nobody answered, until the commit
    assert _count(harness.engine, ReportRow) == 1


def test_concurrent_http_requests_share_transactions(harness: Harness) -> None:
    tokens = [harness.enroll() for _ in range(4)]
    writer = harness.app.state.socle.writer
    before = writer.groups

    async def main() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=harness.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://collector") as client:
            return list(await asyncio.gather(*(
                client.post("/api/v1/reports/batch",
                            headers={**auth(tokens[i % 4]), "X-Socle-Incarnation": "m"},
                            json={"reports": [report_body(), report_body("0350127Y")]})
                for i in range(30))))

    answers = asyncio.run(main())
    assert {r.status_code for r in answers} == {200}
    assert all([x["status"] for x in r.json()["results"]] == ["stored", "refused"] for r in answers)
    assert "enrolled to 0350122T, not 0350127Y" in answers[0].json()["results"][1]["error"]
    assert writer.groups - before < 30  # requests shared transactions
    assert _count(harness.engine, ReportRow) == 30


def test_unknown_credential_and_invalid_body_is_401_first(harness: Harness) -> None:
    bad = {"Authorization": "Bearer sa_unknown"}
    resp = harness.client.post("/api/v1/reports", json={"school_uai": "nope"}, headers=bad)
    assert resp.status_code == 401 and "unknown or revoked" in resp.json()["detail"]
    resp = harness.client.post("/api/v1/reports/batch", json={"reports": []}, headers=bad)
    assert resp.status_code == 401
    token = harness.enroll()
    resp = harness.client.post("/api/v1/reports", json={"school_uai": "nope"}, headers=auth(token))
    assert resp.status_code == 422
    resp = harness.client.post("/api/v1/reports", content=b"{not json",
                               headers={**bad, "Content-Type": "application/json"})
    assert resp.status_code == 422  # unreadable: refused before the credential is looked at, as before
    resp = harness.client.post("/api/v1/reports", json=report_body(),
                               headers={**auth(token), "X-Socle-Incarnation": "x" * 65})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["header", "X-Socle-Incarnation"]
    assert _count(harness.engine, ReportRow) == 0
    assert uuid.UUID(harness.client.post("/api/v1/reports", json=report_body(),
                                         headers=auth(token)).json()["report_id"])


def test_in_the_loop_a_lock_file_that_cannot_be_opened_fails_the_requests_not_hangs(
        harness: Harness, tmp_path: Any) -> None:
    writer = IngestWriter(harness.engine, in_loop=True)
    writer._turn = str(tmp_path / "gone" / "socle.db.ingest-lock")  # its folder does not exist
    job = Job(token_hash=hash_secret(harness.enroll()), incarnation=None, now=NOW, reports=[_prepared()])

    async def main() -> BaseException | None:
        try:
            await asyncio.wait_for(writer.run(job), 5)  # a hang would be a timeout
        except (FileNotFoundError, TimeoutError) as exc:
            return exc
        return None

    assert isinstance(asyncio.run(main()), FileNotFoundError)
    assert _count(harness.engine, ReportRow) == 0
    writer.stop()


def test_in_the_loop_stop_waits_for_the_group_being_written(harness: Harness,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """At shutdown (stop() from another thread) a group already taken off the queue is finished, not cut
    off by its connection closing under it."""
    import time

    writer = IngestWriter(harness.engine, in_loop=True)
    started = threading.Event()
    real = ingest_writer.run_group

    def slow_group(sql: Any, cur: Any, jobs: Sequence[Job], *rest: Any) -> list[Outcome]:
        started.set()
        time.sleep(0.3)  # the group is being written; stop() comes now
        return real(sql, cur, jobs, *rest)

    monkeypatch.setattr(ingest_writer, "run_group", slow_group)
    stopper = threading.Thread(target=lambda: (started.wait(5), writer.stop()))
    stopper.start()
    job = Job(token_hash=hash_secret(harness.enroll()), incarnation=None, now=NOW, reports=[_prepared()])
    (outcome,) = _run_all(writer, [job])
    stopper.join(10)
    assert isinstance(outcome, Outcome) and outcome.statuses == ["stored"]
    assert _count(harness.engine, ReportRow) == 1


def test_writers_of_one_sqlite_file_take_turns(tmp_path: Any) -> None:
    from collector.db.engine import lock_file, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    path = lock_file(engine, "ingest-lock")
    assert path == f"{tmp_path / 'turns.db'}.ingest-lock"
    memory = create_engine("sqlite://")
    assert lock_file(memory, "ingest-lock") is None  # in memory: nothing to share
    order: list[str] = []
    with sqlite_wal.Turn(path) as first:
        first.take()
        first.take()  # taken once per group
        with sqlite_wal.Turn(path) as busy:
            assert not busy.try_take()  # in the event loop: not now, the loop goes on

        def second() -> None:
            with sqlite_wal.Turn(path) as turn:  # another writer (its own open file)
                turn.take()
                order.append("second")

        other = threading.Thread(target=second)
        other.start()
        other.join(0.3)
        order.append("first done")
    other.join(10)
    assert order == ["first done", "second"]
    with sqlite_wal.Turn(path) as free:
        assert free.try_take()  # let go: the next try has it
    with open(path, "a+b") as kept:  # a writer's own lock file, kept open from turn to turn
        for _ in range(2):
            with sqlite_wal.Turn(path, kept) as mine:
                assert mine.try_take()
                with sqlite_wal.Turn(path) as other:
                    assert not other.try_take()  # held through the kept file
            with sqlite_wal.Turn(path) as other:
                assert other.try_take()  # let go at the end of the turn, the file still open
        assert not kept.closed
    engine.dispose()
    memory.dispose()


def test_sqlite_log_is_checkpointed_off_the_turn_and_started_again(tmp_path: Any) -> None:
    """Writers that never pause and never checkpoint: the checkpointer's rounds copy their log and start
    it again, so the ``-wal`` file stays bounded; without them it grows with every commit."""
    from collector.db.engine import create_schema, lock_file, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    create_schema(engine)
    keeper = sqlite_wal.Checkpointer(engine, lock_file(engine, "ingest-lock"), restart_pages=40)
    writer = engine.raw_connection()
    writer.detach()
    keeper.configure(writer)
    rounds = engine.raw_connection()
    rounds.detach()
    wal = tmp_path / "wal.db-wal"
    cur, own = writer.cursor(), rounds.cursor()
    sizes = []
    for i in range(200):  # ~3 pages a commit: 600 pages written in all
        cur.execute("INSERT INTO sample_layouts (digest, metrics) VALUES (?, ?)", (f"d{i}", "m" * 9000))
        writer.commit()
        if i % 10 == 9:
            keeper.checkpoint(own)
            sizes.append(wal.stat().st_size)
    assert keeper.restarts >= 5
    assert max(sizes) < 150 * 4120  # a round's worth of pages or so (frames: 4 kB and a header), never 600
    assert sizes[-1] == sizes[len(sizes) // 2]  # written again from its start, it no longer grows
    cur.execute("SELECT count(*) FROM sample_layouts")
    assert cur.fetchone() == (200,)
    writer.close()
    rounds.close()
    unkept = make_engine(f"sqlite:///{tmp_path / 'unkept.db'}")
    create_schema(unkept)
    plain = unkept.raw_connection()
    plain.detach()
    sqlite_wal.Checkpointer.configure(plain)
    cur = plain.cursor()
    for i in range(200):
        cur.execute("INSERT INTO sample_layouts (digest, metrics) VALUES (?, ?)", (f"d{i}", "m" * 9000))
        plain.commit()
    assert (tmp_path / "unkept.db-wal").stat().st_size > 500 * 4096  # no round: the log only grows
    plain.close()
