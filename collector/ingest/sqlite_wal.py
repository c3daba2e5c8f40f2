"""SQLite's write turn for ingest, and its WAL checkpoints taken off that turn.

With ``--workers N`` on SQLite, every stored report passes through one door:
the database's single write lock. The ingest writers (collector/ingest/writer.py)
take turns at it through a lock file (:class:`Turn`), and what they do while
holding it bounds the whole collector's ingest rate (bench/ingest).

A commit in WAL mode appends the transaction's pages to the ``-wal`` file. By
default the committing connection then copies the log back into the database
file once it holds 1,000 pages (a *checkpoint*, with an ``fsync``), still holding
the turn: a quarter of the turn's time under load. Here the writers' connections
do not checkpoint (:meth:`Checkpointer.configure`); a :class:`Checkpointer` thread
beside each writer does, every :data:`EVERY_S`:

* a ``PASSIVE`` checkpoint, without the turn: it copies what is committed while
  the writers go on;
* once the log holds :data:`RESTART_PAGES` pages, a ``RESTART`` checkpoint *with*
  the turn, so that the log starts again from its beginning instead of growing
  for as long as writes never pause. Little is left to copy by then, so it holds
  the turn briefly; a reader that keeps it waiting more than :data:`WAIT_MS` makes
  it try again later instead.

Another writer of the database (the sweep, enrolment) keeps SQLite's own
checkpoints on its connections.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine

from collector.db.engine import fcntl

log = logging.getLogger("socle.collector.ingest")

EVERY_S = 1.0  # seconds between checkpoints
RESTART_PAGES = 16_000  # log pages (64 MB at SQLite's 4 kB) beyond which the log is started again
WAIT_MS = 50  # how long a RESTART waits for readers still on the log


class Turn:
    """The database's ingest turn (a blocking ``flock`` on the lock file), held from the group's first
    write to its commit.

    SQLite has one write lock per database; with ``--workers N``, a writer finding it held waits in
    SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25 ms... between tries and lets a writer
    that comes back take it again. A writer blocked on the lock file is woken as soon as the other
    lets go. The reads before the first write take no turn (as they take no SQLite write lock);
    other writes (the sweep, enrolment) still meet SQLite's own lock.
    """

    def __init__(self, path: str | None, kept: Any = None) -> None:
        self.path = path
        self.kept = kept  # a file of the lock the caller keeps open (its writer's), or None: one per turn
        self._file: Any = None

    def _open(self) -> Any:
        return self.kept if self.kept is not None else open(self.path, "a+b")  # type: ignore[arg-type]

    def take(self) -> None:
        """Wait for the turn (nothing when there is nothing to share)."""
        if self.path is not None and self._file is None:
            self._file = self._open()
            fcntl.flock(self._file, fcntl.LOCK_EX)  # released at the end, or by the kernel if we die

    def try_take(self) -> bool:
        """Take the turn if it is free, without waiting; whether it is ours."""
        if self.path is None or self._file is not None:
            return True
        file = self._open()
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if file is not self.kept:
                file.close()
            return False
        self._file = file
        return True

    def __enter__(self) -> Turn:
        return self

    def __exit__(self, *_exc: object) -> None:
        file, self._file = self._file, None
        if file is None:
            return
        if file is self.kept:
            fcntl.flock(file, fcntl.LOCK_UN)
        else:
            file.close()


class Checkpointer:
    """The WAL checkpoints of one ingest writer's database, in a thread of their own (see the module)."""

    def __init__(self, engine: Engine, turn: str | None, every_s: float = EVERY_S,
                 restart_pages: int = RESTART_PAGES) -> None:
        self.engine = engine
        self.turn = turn
        self.every_s = every_s
        self.restart_pages = restart_pages
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.restarts = 0  # RESTART checkpoints done (for tests and curiosity)

    @staticmethod
    def configure(conn: Any) -> None:
        """Make a writer's DBAPI connection leave checkpoints to the checkpointer."""
        cur = conn.cursor()
        cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    def start(self) -> None:
        """Start checkpointing, unless it is going on already."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="socle-wal-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after a last checkpoint (the writer's thread ends)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(10)

    def _run(self) -> None:
        conn = self.engine.raw_connection()
        conn.detach()  # its own connection, with its own busy timeout
        try:
            cur = conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={WAIT_MS}")
            while True:
                stopping = self._stop.wait(self.every_s)
                try:
                    self.checkpoint(cur)
                except Exception:  # never the end of checkpoints: the next round tries again
                    log.warning("ingest: WAL checkpoint failed", exc_info=True)
                if stopping:
                    return
        finally:
            conn.close()

    def checkpoint(self, cur: Any) -> tuple[int, int]:
        """One round: a PASSIVE checkpoint, then a RESTART with the turn if the log is long;
        (pages in the log, pages copied) as the last checkpoint left them."""
        cur.execute("PRAGMA wal_checkpoint(PASSIVE)")
        _busy, pages, copied = cur.fetchone()
        if pages >= self.restart_pages:
            with Turn(self.turn) as turn:
                turn.take()
                cur.execute("PRAGMA wal_checkpoint(RESTART)")
                busy, pages, copied = cur.fetchone()
            if not busy:
                self.restarts += 1
        return pages, copied
