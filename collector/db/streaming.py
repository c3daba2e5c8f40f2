"""Many rows read through the database driver's own cursor, for the reads of a full re-evaluation.

SQLAlchemy's row objects cost more than the rows themselves when there are
millions of them: these reads go through SQLite's cursor, or a server-side
cursor of psycopg in binary (bytea as bytes, not hex text), the next chunk
fetched by a thread while the rows before are used.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Generator, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, select


def stream(conn: Connection, sql: str, params: Sequence[Any], name: str) -> Iterator[Any]:
    """The rows of ``sql`` (``?`` marks its parameters) on ``conn``, in its transaction: through
    SQLite's cursor, or a server-side cursor of psycopg (the two drivers the collector runs on)."""
    dbapi: Any = conn.connection.dbapi_connection
    if conn.dialect.name == "sqlite":
        cur = dbapi.cursor()
        cur.execute(sql, tuple(params))
        return itertools.chain.from_iterable(chunks(cur, 5000))  # (ahead in a thread: slower, the GIL)
    conn.execute(select(1))  # the transaction has begun: a named cursor lives in it
    cur = dbapi.cursor(name=name, binary=True)
    cur.execute(sql.replace("?", "%s"), tuple(params))
    return ahead(chunks(cur, 20_000))  # (iterating a server cursor fetches a few rows at a time)


def chunks(cur: Any, size: int) -> Generator[list[Any], None, None]:
    """The cursor's rows, ``size`` at a time; the cursor closed at the end."""
    try:
        while chunk := cur.fetchmany(size):
            yield chunk
    finally:
        cur.close()


def ahead(source: Generator[list[Any], None, None]) -> Iterator[Any]:
    """The rows of ``source``'s chunks, each next chunk fetched by a thread while the rows before are
    used: the PostgreSQL server prepares and sends rows while Python works."""
    box: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()
    end = object()

    def offer(item: Any) -> bool:
        """Hand ``item`` to the reader; False once the reader has gone."""
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        try:
            for chunk in source:
                if not offer(chunk):
                    return
            offer(end)
        except Exception as exc:  # noqa: BLE001 - handed to the reader, raised there
            offer(exc)
        finally:
            source.close()  # the cursor, closed by the thread that used it

    thread = threading.Thread(target=fetch, name="socle-fetch-rows", daemon=True)
    thread.start()
    try:
        while (item := box.get()) is not end:
            if isinstance(item, Exception):
                raise item
            yield from item
    finally:
        stop.set()
        thread.join()
