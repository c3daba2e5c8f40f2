"""A report's samples stored as one row: its metrics' layout, and its values packed.

A nightly report carries about 70 numeric values. Stored one row each, they cost
ingest 70 rows in three indexes and a full re-evaluation tens of millions of
rows to read. Stored here as one *sample set* per report instead:

* ``layout``: the report's metric names in order, kept once in ``sample_layouts``
  under a digest of them (content-addressed, so any process and any database
  agree on it without asking);
* ``vals``: the values as little-endian doubles, in the layout's order;
* ``times``: only when a value was taken at another time than the report (a
  room survey's readings), every value's time in microseconds since the epoch;
* ``limited``: only when a measurement was limited by the client, a JSON object
  of the value's index (as text) to the cause.

Every value a report gives (config.samples.report_columns) is kept, so any
profile, today's or a later one, can be judged on the stored history.
:func:`expand` gives them back as :class:`~config.readiness.Sample`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, select

from collector.db.models import SampleLayout, SampleSetRow
from config.readiness import Sample
from config.samples import device_name, report_columns
from config.wire import Report

_L: Table = SampleLayout.__table__  # type: ignore[assignment]
_S: Table = SampleSetRow.__table__  # type: ignore[assignment]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_SWAP = sys.byteorder != "little"
SET_COLUMNS = ("report_id", "school_uai", "room", "device", "taken_us", "layout", "vals", "times", "limited")
# A survey's readings may be dated before their report: sets are read from this much before a window.
SURVEY_LEAD = timedelta(days=1)
_DIGESTS: dict[tuple[str, ...], str] = {}  # layout -> digest, for the layouts this process has seen
_METRICS: dict[str, tuple[str, ...]] = {}  # digest -> layout (content-addressed: valid for any database)


def to_us(at: datetime) -> int:
    """An aware datetime as microseconds since the epoch (exact)."""
    return (at - EPOCH) // _US


def from_us(us: int) -> datetime:
    """Microseconds since the epoch as an aware datetime in UTC."""
    return EPOCH + timedelta(microseconds=us)


def layout_digest(metrics: tuple[str, ...]) -> str:
    """The digest a layout is stored under (32 hex digits of SHA-256 of its names)."""
    digest = _DIGESTS.get(metrics)
    if digest is None:
        digest = hashlib.sha256("\n".join(metrics).encode()).hexdigest()[:32]
        if len(_DIGESTS) < 4096:  # a few agent versions' layouts; never unbounded
            _DIGESTS[metrics] = digest
            _METRICS[digest] = metrics
    return digest


def pack_doubles(values: Iterable[float]) -> bytes:
    """Values as little-endian doubles."""
    a = array("d", values)
    if _SWAP:  # pragma: no cover - big-endian machines
        a.byteswap()
    return a.tobytes()


def unpack_doubles(blob: bytes) -> array[float]:
    """The values of :func:`pack_doubles`."""
    a = array("d")
    a.frombytes(blob)
    if _SWAP:  # pragma: no cover
        a.byteswap()
    return a


@dataclass(frozen=True)
class Packed:
    """A report's samples ready to store (:data:`SET_COLUMNS` but the report's own columns)."""

    device: str
    taken_us: int
    metrics: tuple[str, ...]
    layout: str
    vals: bytes
    times: bytes | None
    limited: str | None

    def row(self, report_id: str, school_uai: str, room: str) -> tuple[Any, ...]:
        """The set's row, in :data:`SET_COLUMNS` order."""
        return (report_id, school_uai, room, self.device, self.taken_us, self.layout, self.vals,
                self.times, self.limited)


def _packed(device: str, taken_us: int, metrics: tuple[str, ...], values: Iterable[float],
            times_us: Iterable[int] | None, limited: dict[int, str]) -> Packed:
    return Packed(device=device, taken_us=taken_us, metrics=metrics, layout=layout_digest(metrics),
                  vals=pack_doubles(values),
                  times=None if times_us is None else array("q", times_us).tobytes(),
                  limited=json.dumps({str(i): c for i, c in limited.items()}) if limited else None)


def pack(report: Report, shift: timedelta = timedelta(0)) -> Packed | None:
    """A report's samples as one set, every time moved by ``shift`` (a clock that was off), or None
    when it measured nothing numeric."""
    metrics, values, times, limited = report_columns(report)
    if not metrics:
        return None
    by = shift // _US
    return _packed(device_name(report), to_us(report.taken_at) + by, tuple(metrics), values,
                   None if times is None else (to_us(t) + by for t in times), limited)


def pack_samples(samples: Iterable[Sample], by_time: bool = True) -> list[tuple[str, Packed]]:
    """Samples as sets, each with its room: one set per room, device and time (``by_time``), a metric
    seen again in a group starting a new set; or one set per room and device, with each value's time.

    For samples that did not come from a report (tests, benchmarks, imports).
    """
    groups: dict[tuple[Any, ...], list[list[Sample]]] = {}
    for sample in samples:
        key = (sample.room, sample.device, sample.taken_at if by_time else None)
        sets = groups.setdefault(key, [[]])
        if by_time and any(x.metric == sample.metric for x in sets[-1]):
            sets.append([])
        sets[-1].append(sample)
    out = []
    for (room, device, _), sets in groups.items():
        for group in sets:
            each = [to_us(x.taken_at) for x in group]
            limited = {i: x.limited_by for i, x in enumerate(group) if x.limited_by is not None}
            out.append((room, _packed(device, max(each),  # like a report, dated by its last value
                                      tuple(x.metric for x in group), (x.value for x in group),
                                      None if len(set(each)) == 1 else each, limited)))
    return out


def layouts(conn: Connection, digests: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The metric names of each layout (read once per process: a digest names one layout forever)."""
    wanted = set(digests)
    missing = sorted(wanted - _METRICS.keys())
    for i in range(0, len(missing), 500):
        for digest, names in conn.execute(select(_L.c.digest, _L.c.metrics)
                                          .where(_L.c.digest.in_(missing[i : i + 500]))):
            _METRICS[digest] = _names(names)
    return {d: _METRICS[d] for d in wanted if d in _METRICS}


def _names(stored: str) -> tuple[str, ...]:
    return tuple(stored.split("\n")) if stored else ()


def all_layouts(conn: Connection) -> dict[str, tuple[str, ...]]:
    """Every stored layout (a few per agent version)."""
    for digest, names in conn.execute(select(_L.c.digest, _L.c.metrics)):
        _METRICS.setdefault(digest, _names(names))
    return dict(_METRICS)


# A stored set as the readers read it back.
READ_COLUMNS = (_S.c.taken_us, _S.c.room, _S.c.device, _S.c.layout, _S.c.vals, _S.c.times, _S.c.limited)


def expand(row: Sequence[Any], metrics: tuple[str, ...],
           wanted: frozenset[str] | set[str] | None = None) -> Iterator[Sample]:
    """A stored set's samples, from its :data:`READ_COLUMNS` (only the ``wanted`` metrics when given)."""
    taken_us, room, device, _layout, vals, times, limited = row
    values = unpack_doubles(bytes(vals))
    at_each = None if times is None else array("q", bytes(times))
    causes: dict[str, str] = json.loads(limited) if limited else {}
    taken_at = from_us(taken_us)
    for i, metric in enumerate(metrics):
        if wanted is not None and metric not in wanted:
            continue
        yield Sample(metric=metric, value=values[i],
                     taken_at=taken_at if at_each is None else from_us(at_each[i]),
                     room=room, device=device, limited_by=causes.get(str(i)))


def school_samples(conn: Connection, uai: str, since: datetime,
                   metrics: Iterable[str] | None = None) -> list[Sample]:
    """The samples of one school taken since ``since`` (of ``metrics`` only, when given), in time order.

    Sets are read from :data:`SURVEY_LEAD` before ``since``; each sample is then
    kept by its own time.
    """
    wanted = None if metrics is None else frozenset(metrics)
    rows = conn.execute(select(*READ_COLUMNS).where(_S.c.school_uai == uai,
                                                    _S.c.taken_us >= to_us(since - SURVEY_LEAD))
                        .order_by(_S.c.taken_us, _S.c.id)).all()
    names = layouts(conn, {r[3] for r in rows})
    out = [sample for r in rows for sample in expand(r, names.get(r[3], ()), wanted)
           if sample.taken_at >= since]
    out.sort(key=lambda sample: sample.taken_at)  # stable: a report's order within the same time
    return out
