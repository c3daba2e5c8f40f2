"""The durable spool: every report is written here before any attempt to send it.

One SQLite file in WAL mode with ``synchronous=FULL``: a report is on disk once
:meth:`Spool.put` returns, and survives a reboot or a SIGKILL at any point (each
change is one transaction). Reports leave only when the collector acknowledged
them (stored or duplicate), when it refused them as invalid (they move to a small
``refused`` table for inspection), or when the spool outgrows its size or age
bounds — then the oldest go first and are counted in ``dropped_total``, which
the next report carries to the collector (:class:`config.wire.SpoolHealth`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.wire import SpoolHealth

log = logging.getLogger("socle.agent.spool")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    size INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS refused (
    report_id TEXT PRIMARY KEY,
    refused_at REAL NOT NULL,
    error TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
REFUSED_KEEP = 100  # refused reports kept for inspection, newest first


@dataclass(frozen=True)
class SpoolItem:
    """One report waiting to be sent."""

    seq: int
    report_id: str
    body: str


@dataclass(frozen=True)
class SpoolStats:
    """What the spool holds and what happened to it."""

    depth: int
    size_bytes: int
    oldest_at: float | None
    dropped_total: int
    refused_total: int
    unkept_total: int  # reports measured that could not be kept and did not reach the collector
    sent_total: int
    failures: int  # consecutive failed sends
    not_before: float | None  # no automatic send before this time (backoff, Retry-After)
    last_error: str | None
    last_sent_at: float | None

    def health(self) -> SpoolHealth:
        """The part of the stats a report carries to the collector."""
        from config.wire import SpoolHealth

        return SpoolHealth(depth=self.depth, dropped_total=self.dropped_total,
                           refused_total=self.refused_total, unkept_total=self.unkept_total)


class Spool:
    """Reports waiting for the collector, oldest first, bounded by size and age."""

    def __init__(self, path: Path, *, max_bytes: int = 50_000_000, max_age_s: float = 30 * 86400.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self.clock = clock
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)  # owner-only before SQLite opens it
            os.close(fd)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # a put() that returned is on disk
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    def close(self) -> None:
        """Close the database (the spool reopens it when used again)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._db()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @staticmethod
    def _bump(conn: sqlite3.Connection, key: str, by: int) -> None:
        conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                     "SET value = CAST(value AS INTEGER) + ?", (key, str(by), by))

    def put(self, report_id: str, body: str) -> int:
        """Keep one report (the same id twice is kept once); returns how many old ones were dropped."""
        with self._write() as conn:
            conn.execute("INSERT OR IGNORE INTO reports(report_id, created_at, size, body) VALUES (?,?,?,?)",
                         (report_id, self.clock(), len(body.encode()), body))
            return self._enforce_bounds(conn)

    def prune(self) -> int:
        """Drop what is past the age or size bound, oldest first; returns how many."""
        with self._write() as conn:
            return self._enforce_bounds(conn)

    def _enforce_bounds(self, conn: sqlite3.Connection) -> int:
        cutoff = self.clock() - self.max_age_s
        dropped = conn.execute("DELETE FROM reports WHERE created_at < ?", (cutoff,)).rowcount
        total = conn.execute("SELECT COALESCE(SUM(size), 0) FROM reports").fetchone()[0]
        if total > self.max_bytes:
            # The newest report is always kept, even when it alone is above the bound.
            rows = conn.execute("SELECT seq, size FROM reports ORDER BY seq").fetchall()
            doomed = []
            for seq, size in rows[:-1]:
                if total <= self.max_bytes:
                    break
                doomed.append(seq)
                total -= size
            conn.executemany("DELETE FROM reports WHERE seq = ?", [(s,) for s in doomed])
            dropped += len(doomed)
        if dropped:
            self._bump(conn, "dropped_total", dropped)
            log.warning("spool full or too old: dropped the %d oldest report(s)", dropped)
        return dropped

    def batch(self, max_items: int, max_bytes: int) -> list[SpoolItem]:
        """The oldest reports, up to a count and a size (always at least one when not empty)."""
        rows = self._db().execute("SELECT seq, report_id, size, body FROM reports ORDER BY seq LIMIT ?",
                                  (max_items,)).fetchall()
        out: list[SpoolItem] = []
        used = 0
        for seq, rid, size, body in rows:
            if out and used + size > max_bytes:
                break
            out.append(SpoolItem(seq, rid, body))
            used += size
        return out

    def ack(self, report_ids: Iterable[str]) -> int:
        """Forget reports the collector has (stored or duplicate); returns how many left the spool."""
        ids = [(r,) for r in report_ids]
        if not ids:
            return 0
        with self._write() as conn:
            gone = sum(conn.execute("DELETE FROM reports WHERE report_id = ?", i).rowcount for i in ids)
            self._bump(conn, "sent_total", gone)
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('last_sent_at', ?)",
                         (str(self.clock()),))
        return gone

    def refuse(self, report_id: str, error: str) -> None:
        """Set aside a report the collector refused as invalid: sending it again cannot help."""
        with self._write() as conn:
            row = conn.execute("SELECT body FROM reports WHERE report_id = ?", (report_id,)).fetchone()
            if row is None:
                return
            conn.execute("DELETE FROM reports WHERE report_id = ?", (report_id,))
            conn.execute("INSERT OR REPLACE INTO refused(report_id, refused_at, error, body) "
                         "VALUES (?,?,?,?)",
                         (report_id, self.clock(), error[:2000], row[0]))
            conn.execute("DELETE FROM refused WHERE report_id NOT IN "
                         "(SELECT report_id FROM refused ORDER BY refused_at DESC LIMIT ?)", (REFUSED_KEEP,))
            self._bump(conn, "refused_total", 1)
        log.warning("collector refused report %s: %s", report_id, error)

    def refused(self) -> list[tuple[str, str]]:
        """Refused reports kept aside: (report_id, why), newest first."""
        return self._db().execute("SELECT report_id, error FROM refused ORDER BY refused_at DESC").fetchall()

    def count_unkept(self, n: int) -> None:
        """Count reports that were measured while the spool could not keep them, and were not delivered."""
        if n > 0:
            with self._write() as conn:
                self._bump(conn, "unkept_total", n)

    def record_failure(self, error: str, not_before: float) -> int:
        """Note a failed send and when to try again; returns the count of consecutive failures."""
        with self._write() as conn:
            self._bump(conn, "failures", 1)
            conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                             [("last_error", error[:500]), ("not_before", str(not_before))])
            return int(conn.execute("SELECT value FROM meta WHERE key='failures'").fetchone()[0])

    def record_success(self) -> None:
        """Reset the backoff after a send the collector answered."""
        with self._write() as conn:
            conn.execute("DELETE FROM meta WHERE key IN ('failures', 'not_before')")

    def set_error(self, error: str | None) -> None:
        """Remember the last delivery error (None clears it)."""
        with self._write() as conn:
            if error is None:
                conn.execute("DELETE FROM meta WHERE key='last_error'")
            else:
                conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('last_error', ?)",
                             (error[:500],))

    def stats(self) -> SpoolStats:
        """Depth, size, counters and backoff state, read in one snapshot."""
        conn = self._db()
        depth, size, oldest = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0), MIN(created_at) FROM reports").fetchone()
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())

        def num(key: str) -> float | None:
            return float(meta[key]) if key in meta else None

        return SpoolStats(depth=depth, size_bytes=size, oldest_at=oldest,
                          dropped_total=int(num("dropped_total") or 0),
                          refused_total=int(num("refused_total") or 0),
                          unkept_total=int(num("unkept_total") or 0),
                          sent_total=int(num("sent_total") or 0), failures=int(num("failures") or 0),
                          not_before=num("not_before"), last_error=meta.get("last_error"),
                          last_sent_at=num("last_sent_at"))
