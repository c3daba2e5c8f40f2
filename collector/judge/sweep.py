"""The sweep: judge again the stored verdicts that are out of date, one process at a time.

``socle-collector evaluate`` runs it once; ``serve`` runs it every
:data:`INTERVAL` in the background of each worker, and a lock makes the others
skip their turn while one sweeps (a PostgreSQL advisory lock, or a lock file
beside the SQLite database). Readers judge again what is still out of date
when they read (collector/judge/verdicts.py), so the sweep is what keeps reading fast,
not what keeps it right.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text

from collector.db.engine import fcntl, lock_file, make_engine
from collector.db.sample_sets import to_us
from collector.edge.metrics import EVALUATION
from collector.judge.history import record_evidence
from collector.judge.kept import Keeper
from collector.judge.plan import make_plan
from collector.judge.verdicts import judge_schools, stale_schools, trim_writes, write_verdicts
from config.profile import Profile

log = logging.getLogger("socle.collector.sweep")

INTERVAL = 60.0  # seconds between two sweeps in ``serve``
FIRST_DELAY = 5.0  # seconds after start-up before the first one
SWEEP_LOCK_KEY = 0x50C1_0002  # PostgreSQL advisory lock, with the schema's own number (migrations: _0001)


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did: schools judged, whether it ran (another process held the lock), seconds."""

    judged: int
    ran: bool
    seconds: float


@contextmanager
def sweep_lock(engine: Engine) -> Iterator[bool]:
    """Try to take the sweep lock without waiting; yields whether it was taken."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            got = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:k, hashtext(current_schema()))"),
                                   {"k": SWEEP_LOCK_KEY}))
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k, hashtext(current_schema()))"),
                                 {"k": SWEEP_LOCK_KEY})
                    conn.commit()
        return
    path = lock_file(engine, "evaluate-lock")
    if path is None:
        yield True
        return
    with open(path, "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _judge_and_store(engine: Engine, profile: Profile, now: datetime, todo: dict[str, int], use_kept: bool,
                     uais: list[str] | None = None, span: tuple[str, str] | None = None) -> int:
    """Judge ``uais`` (all, or those in ``span``, when None), keep the columns made from sets and store
    the verdicts of those in ``todo`` (school -> report count, read before their sets); how many."""
    keeper = Keeper(engine, make_plan(profile, now, to_us), todo)
    with engine.connect() as conn:
        verdicts = judge_schools(conn, profile, now, uais, span, keeper=keeper, use_kept=use_kept)
        conn.rollback()
    keeper.flush()
    verdicts = {u: v for u, v in verdicts.items() if u in todo}
    with engine.begin() as conn:
        write_verdicts(conn, profile, now, verdicts, todo)
    return len(verdicts)


def _judge_part(url: str, profile_json: str, now: datetime, span: tuple[str, str],
                todo: dict[str, int], use_kept: bool) -> int:
    """One worker process's share of a sweep: the schools of ``span`` (:func:`_judge_and_store`)."""
    engine = make_engine(url)
    try:
        return _judge_and_store(engine, Profile.model_validate_json(profile_json), now, todo, use_kept,
                                span=span)
    finally:
        engine.dispose()


def sweep(engine: Engine, profile: Profile, now: datetime, everything: bool = False,
          jobs: int = 1, use_kept: bool = True) -> SweepResult:
    """Judge again every out of date verdict (``everything``: every school) unless another process is.

    With ``jobs`` > 1 the schools are shared between that many worker processes.
    Schools are judged from their kept columns where they serve (unless not
    ``use_kept``), otherwise from their sets, and their columns kept.
    """
    start = time.perf_counter()
    with sweep_lock(engine) as got:
        if not got:
            return SweepResult(0, False, 0.0)
        with engine.connect() as conn:
            todo = stale_schools(conn, profile, now, everything)
            conn.rollback()
        judged = 0
        if todo and jobs > 1:  # ranges of UAIs, each read, judged and stored by its own process
            uais = sorted(todo)
            size = -(-len(uais) // jobs)
            url = engine.url.render_as_string(hide_password=False)
            with ProcessPoolExecutor(jobs) as pool:
                parts = [pool.submit(_judge_part, url, profile.model_dump_json(), now, (part[0], part[-1]),
                                     {u: todo[u] for u in part}, use_kept)
                         for part in (uais[i : i + size] for i in range(0, len(uais), size))]
                judged = sum(part.result() for part in parts)
        elif todo:
            whole = everything or len(todo) > 2500  # many: one streaming pass beats batches
            judged = _judge_and_store(engine, profile, now, todo, use_kept, None if whole else sorted(todo))
        with engine.begin() as conn:
            trim_writes(conn)
    seconds = time.perf_counter() - start
    EVALUATION.labels("sweep").observe(seconds)
    if judged:
        log.info("sweep: judged %d school verdict(s) in %.2f s", judged, seconds)
    return SweepResult(judged, True, seconds)


def start_sweeper(engine: Engine, profile: Profile, clock: Callable[[], datetime],
                  interval: float = INTERVAL,
                  then: Sequence[Callable[[], object]] = ()) -> Callable[[], None]:
    """Sweep every ``interval`` seconds in a background thread, record the evidence of the changes
    (collector/judge/history.py) and run ``then`` (the alerts); returns the function that stops it."""
    stop = threading.Event()

    def loop() -> None:
        if stop.wait(FIRST_DELAY):
            return
        while True:
            for job in (lambda: sweep(engine, profile, clock()), lambda: record_evidence(engine, profile),
                        *then):
                try:
                    job()
                except Exception:  # a failed sweep must not end the sweeper: readers judge anyway
                    log.exception("sweep or what follows it failed; trying again in %.0f s", interval)
            if stop.wait(interval):
                return

    thread = threading.Thread(target=loop, name="socle-sweeper", daemon=True)
    thread.start()

    def stopper() -> None:
        stop.set()
        thread.join(timeout=30)

    return stopper
