"""The ingest writer: many requests' reports committed in one transaction, per process.

The ingest endpoints (async, in the event loop) parse and validate the body,
then hand a :class:`~collector.ingest.group.Job` to the process's writer and
wait. The writer takes everything pending (up to :data:`MAX_REPORTS` reports),
runs it in one transaction (collector/ingest/group.py), commits, and only then
answers each request: a 2xx still means "committed". With SQLite the single
write lock is taken once per group instead of once per request; with PostgreSQL
a group costs a few round trips instead of a dozen per request. With
``--workers N`` each process has its own writer; they contend per group (on
SQLite, they take turns on a lock file beside the database:
:class:`~collector.ingest.sqlite_wal.Turn`).

Where the group runs:

* **SQLite: in the event loop** (``in_loop``). Once the loop has read the
  requests that are ready, one callback commits the jobs waiting, if the turn is
  free (else it tries again in :data:`TURN_RETRY_S`, serving requests meanwhile).
  A group takes a few milliseconds of the loop, and no other Python thread: in a
  thread, each of SQLite's steps gave up the interpreter's lock and had to wait
  for the busy event loop to give it back, all the while holding the turn that
  every other writer waits for (bench/ingest: the turn was held twice as long as
  the work in it took).
* **PostgreSQL: in a thread**, as its statements wait for the server: the loop
  goes on meanwhile. The group's statements go in psycopg's pipeline mode, so
  the thread waits for the server three times per group (the agents read, the
  writes, the commit) instead of about ten: each wait also means waiting for
  the busy event loop to give the interpreter's lock back. A group costs the
  thread and the server some milliseconds whatever its size, so the thread
  gathers one while jobs keep coming: it waits for the next job up to
  :data:`GATHER_GAP_S`, until the group has :data:`GATHER_REPORTS` reports or
  :data:`GATHER_S` have passed since its first job (bench/ingest: groups of
  about 50 reports instead of 22, about 14 % more reports/s). A lone request waits
  :data:`GATHER_GAP_S` at most.

If the group's transaction fails, each job is committed again on its own, so one
bad request never drops the others; a job that fails alone gets the exception
(a 500: the agent retries). The thread starts with the first job and ends after
:data:`IDLE_S` without work (or at :meth:`IngestWriter.stop`, from the app's
lifespan, after finishing what is queued).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine

from collector.db.engine import lock_file
from collector.edge.metrics import INGEST_GROUP, count_report
from collector.ingest.group import Job, Outcome, run_group
from collector.ingest.sqlite_wal import Checkpointer, Turn
from collector.ingest.statements import for_engine

log = logging.getLogger("socle.collector.ingest")

MAX_REPORTS = 200  # reports per transaction (a request's reports are never split)
# In the thread (PostgreSQL), a group waits for more jobs while they keep coming: up to GATHER_REPORTS
# reports, GATHER_S after its first job, each next job within GATHER_GAP_S of the last.
GATHER_REPORTS = 64
GATHER_S = 0.03
GATHER_GAP_S = 0.005
IDLE_S = 5.0  # seconds without work before the thread ends (the next job starts it again)
TURN_RETRY_S = 0.0005  # in the event loop: how soon to try the turn again when another writer has it

Reply = Callable[[Outcome | BaseException], None]
_STOP = object()


class IngestWriter:
    """A queue of ingest jobs and what commits them in groups: the event loop itself on SQLite
    (``in_loop``), a thread of its own otherwise (see the module)."""

    def __init__(self, engine: Engine, max_reports: int = MAX_REPORTS, idle_s: float = IDLE_S,
                 in_loop: bool | None = None, gather: tuple[int, float, float] = (
                     GATHER_REPORTS, GATHER_S, GATHER_GAP_S)) -> None:
        self.engine = engine
        self.in_loop = engine.dialect.name == "sqlite" if in_loop is None else in_loop
        self._pending: deque[tuple[Job, asyncio.Future[Outcome]]] = deque()  # in_loop: the jobs waiting
        self._flush_at: asyncio.Handle | None = None  # in_loop: the next group, when one is planned
        self._lock_file: Any = None  # in_loop: the turn's lock file, kept open (no open() per try)
        self._in_group = False  # in_loop: a group is being written (its jobs are no longer pending)
        self.max_reports = max_reports
        self.gather_reports, self.gather_s, self.gather_gap_s = gather  # in the thread (see the module)
        self.idle_s = idle_s
        self._queue: queue.SimpleQueue[tuple[Job, Reply] | object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._sql = for_engine(engine)  # the group's statements (a database ingest cannot serve fails here)
        self._turn = lock_file(engine, "ingest-lock")  # the SQLite writers' turns (None: none to share)
        self._conn: Any = None  # the thread's own DBAPI connection, kept from group to group
        self._wal = Checkpointer(engine, self._turn) if engine.dialect.name == "sqlite" else None
        self.groups = 0  # transactions committed (for tests and curiosity)

    def submit(self, job: Job, reply: Reply) -> None:
        """Queue a job; ``reply`` is called from the writer thread once it is committed (or failed)."""
        self._queue.put((job, reply))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="socle-ingest-writer", daemon=True)
                self._thread.start()

    async def run(self, job: Job) -> Outcome:
        """Queue a job and wait for its outcome in the event loop (a database fault is raised here)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        if self.in_loop:
            self._pending.append((job, future))
            self._plan(loop, 0.0)
            return await future
        settle = _settler(future)

        def reply(result: Outcome | BaseException) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting any more
                loop.call_soon_threadsafe(settle, result)

        self.submit(job, reply)
        return await future

    def _plan(self, loop: asyncio.AbstractEventLoop, delay: float) -> None:
        """In the loop: commit the jobs waiting once the loop has read what is ready (``delay`` 0), or
        a little later when another writer has the turn."""
        if self._flush_at is None:
            self._flush_at = (loop.call_soon(self._flush, loop) if delay <= 0
                              else loop.call_later(delay, self._flush, loop))

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        """In the loop: one group of the jobs waiting, if the turn is free; the next one planned."""
        self._flush_at = None
        if not self._pending:
            return
        try:
            if self._turn is not None and self._lock_file is None:
                self._lock_file = open(self._turn, "a+b")  # noqa: SIM115 - the writer's, closed by stop()
        except OSError as exc:  # no turn to take: every request waiting fails (a 500), none hangs
            log.exception("ingest: the lock file %s cannot be opened", self._turn)
            waiting, self._pending = self._pending, deque()
            for _, future in waiting:
                _settler(future)(exc)
            return
        with Turn(self._turn, self._lock_file) as turn:
            if not turn.try_take():  # another writer has it: the loop serves requests meanwhile
                self._plan(loop, TURN_RETRY_S)
                return
            batch: list[tuple[Job, Reply]] = []
            count = 0
            self._in_group = True
            try:
                while self._pending:
                    size = _size(self._pending[0])
                    if batch and count + size > self.max_reports:
                        break
                    job, future = self._pending.popleft()
                    batch.append((job, _settler(future)))
                    count += size
                self._commit(batch, turn)
            finally:
                self._in_group = False
        if self._pending:
            self._plan(loop, 0.0)

    def stop(self, timeout: float = 30.0) -> None:
        """Finish what is queued, then end the thread (in the loop: wait for the jobs waiting, then let
        the connection and the checkpoints go)."""
        if self.in_loop:
            deadline = time.monotonic() + timeout
            while (self._pending or self._in_group) and time.monotonic() < deadline:
                time.sleep(0.01)
            self._release()
            if self._lock_file is not None:
                self._lock_file.close()
                self._lock_file = None
            return
        with self._lock:
            thread = self._thread
            if thread is None:
                return
            self._queue.put(_STOP)
        thread.join(timeout)

    def _run(self) -> None:
        try:
            self._serve()
        finally:
            self._release()

    def _release(self) -> None:
        """The writer's connection closed and its checkpoints stopped (its work is done)."""
        self._close()
        if self._wal is not None:
            self._wal.stop()

    def _serve(self) -> None:
        me = threading.current_thread()
        while True:
            try:
                item = self._queue.get(timeout=self.idle_s)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        if self._thread is me:
                            self._thread = None
                        return
                continue
            if item is _STOP:
                with self._lock:
                    if self._thread is me:
                        self._thread = None
                return
            batch = [item]
            count = _size(item)
            stop = False
            started = time.monotonic()
            while count < self.max_reports:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    wait = self._gather_wait(count, started)
                    if wait <= 0:
                        break
                    try:
                        more = self._queue.get(timeout=wait)
                    except queue.Empty:
                        break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)
                count += _size(more)
            self._commit(batch)  # type: ignore[arg-type]
            if stop:
                self._queue.put(_STOP)  # seen again at the top, after the jobs still queued

    def _gather_wait(self, count: int, started: float) -> float:
        """How long the thread waits for more jobs before committing a group of ``count`` reports
        started at ``started`` (0: commit now)."""
        if count >= self.gather_reports:
            return 0.0
        return min(self.gather_gap_s, started + self.gather_s - time.monotonic())

    def _commit(self, batch: Sequence[tuple[Job, Reply]], turn: Turn | None = None) -> None:
        jobs = [job for job, _ in batch]
        try:
            outcomes = self._transaction(jobs, turn)
        except Exception as exc:  # then each job on its own, so one bad one drops no other
            if len(batch) == 1:
                log.exception("ingest: a request's transaction failed")
                _answer(batch[0][1], exc)
                return
            log.warning("ingest: a group of %d requests failed; committing them one by one", len(batch),
                        exc_info=True)
            for job, reply in batch:
                try:
                    (outcome,) = self._transaction([job], turn)
                except Exception as exc:  # this request fails (500): its agent retries
                    log.exception("ingest: a request's transaction failed")
                    _answer(reply, exc)
                    continue
                _answer(reply, outcome)
            return
        for (_, reply), outcome in zip(batch, outcomes, strict=True):
            _answer(reply, outcome)

    def _transaction(self, jobs: Sequence[Job], held: Turn | None = None) -> list[Outcome]:
        """One group in one transaction, committed; ``held``: the turn, already taken (in the loop)."""
        with contextlib.nullcontext(held) if held else Turn(self._turn) as turn:  # it outlives a rollback
            conn = self._connection()
            try:
                with self._sql.group(conn):
                    cur = conn.cursor()
                    outcomes = run_group(self._sql, cur, jobs, turn.take)  # the turn: before the first write
                    cur.close()
                    conn.commit()
            except BaseException:
                self._close(rollback=True)  # a connection that failed is not used again
                raise
        self.groups += 1
        INGEST_GROUP.observe(sum(len(job.reports or ()) for job in jobs))
        for outcome in outcomes:  # counted once committed
            for status in outcome.statuses:
                if isinstance(status, str):
                    count_report(status)
        return outcomes

    def _connection(self) -> Any:
        """The writer's DBAPI connection, opened at its first group; SQLite's writes no checkpoint itself
        (its :class:`~collector.ingest.sqlite_wal.Checkpointer` does, off the turn)."""
        if self._conn is None:
            conn = self.engine.raw_connection()
            conn.detach()  # the writer's own: out of the pool, closed by the writer
            if self._wal is not None:
                self._wal.configure(conn)
                self._wal.start()
            self._conn = conn
        return self._conn

    def _close(self, rollback: bool = False) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if rollback:
                conn.rollback()
        except Exception:  # the connection is going anyway
            log.debug("ingest: rollback of a failed group failed", exc_info=True)
        finally:
            conn.close()


def _settler(future: asyncio.Future[Outcome]) -> Reply:
    """A reply that settles the job's future (called in its loop)."""
    def settle(result: Outcome | BaseException) -> None:
        if future.done():
            return
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)
    return settle


def _size(item: object) -> int:
    job = item[0] if isinstance(item, tuple) else None
    return max(1, len(job.reports or ())) if isinstance(job, Job) else 1


def _answer(reply: Reply, result: Outcome | BaseException) -> None:
    try:
        reply(result)
    except Exception:  # a reply must never end the writer
        log.exception("ingest: answering a request failed")
