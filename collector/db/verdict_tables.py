"""The judge's tables (collector/judge/): stored verdicts, their writes, their history, the kept columns.

Apart from collector/db/models.py for its length; on the same ``Base``, so the migrations
and their check see them (collector/db/migrations imports this module).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from collector.db.models import Base, JsonText


class SchoolVerdict(Base):
    """A school's stored verdict, read by the overview, the list and the exports
    (collector/judge/verdicts.py).

    ``reports`` counts reports received (ingest adds one); ``judged_reports`` is
    the count the verdict took into account: they differ while the school is
    waiting to be judged again. ``valid_until`` is when a sample used leaves its
    window (or a future-dated one enters it): the verdict may change then.
    """

    __tablename__ = "school_verdicts"

    school_uai: Mapped[str] = mapped_column(ForeignKey("schools.uai", ondelete="CASCADE"), primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    failing: Mapped[list[str]] = mapped_column(JSON, default=list)
    outcomes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # rule id -> pass|fail|no_data
    evaluated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    profile_hash: Mapped[str] = mapped_column(String(64), default="")
    pupils: Mapped[int | None] = mapped_column(Integer, default=None)
    staff: Mapped[int | None] = mapped_column(Integer, default=None)
    reports: Mapped[int] = mapped_column(Integer, default=0)
    judged_reports: Mapped[int] = mapped_column(Integer, default=0)
    # When the current level began (the judging that first gave it; migration 0016).
    since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # The school's download and upload figures by the rules that gate first and have one, and those
    # rules' ids (collector/judge/plan.py MEASURED, migration 0021): what the lists set against a contract.
    measured_download_mbps: Mapped[float | None] = mapped_column(Float, default=None)
    measured_download_rule: Mapped[str | None] = mapped_column(String(64), default=None)
    measured_upload_mbps: Mapped[float | None] = mapped_column(Float, default=None)
    measured_upload_rule: Mapped[str | None] = mapped_column(String(64), default=None)


class VerdictWrite(Base):
    """One transaction that stored verdicts (collector/judge/verdicts.py, migration 0021): a process that
    keeps the verdicts in memory reads them again when the count or the newest id of these rows moved."""

    __tablename__ = "verdict_writes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)


class VerdictHistoryRow(Base):
    """One change of a school's level (``subject`` "level") or of one rule's outcome (its rule id),
    written with the verdict that made it (collector/judge/history.py, migration 0016).

    ``cause``: ``data`` (the school's measurements or facts changed), ``profile`` (a new profile
    version judged it: not a change of the school), ``silent`` (no data any more), ``heard`` (data
    again). ``evidence`` is recorded just after (the reference judge's evidence at ``at``); None
    while it is not recorded yet.
    """

    __tablename__ = "verdict_history"
    __table_args__ = (Index("ix_verdict_history_school_at", "school_uai", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    school_uai: Mapped[str] = mapped_column(ForeignKey("schools.uai", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    subject: Mapped[str] = mapped_column(String(64))
    was: Mapped[str | None] = mapped_column(String(16), default=None)  # None: not judged on it before
    became: Mapped[str | None] = mapped_column(String(16), default=None)  # None: no longer a rule
    cause: Mapped[str] = mapped_column(String(8))
    profile_hash: Mapped[str] = mapped_column(String(64))
    evidence: Mapped[Any] = mapped_column(JsonText, nullable=True, default=None)
    # A change of level the alerts have still to tell (False), have told (True), or never tell (None:
    # a rule's outcome, or a new profile version's doing) (collector/alerts/plan.py).
    alerted: Mapped[bool | None] = mapped_column(Boolean, index=True, default=None)


class SchoolColumnsRow(Base):
    """A school's recent sample sets as the judge reads them, kept by the sweep (collector/judge/kept.py).

    A cache: judging from it gives the verdict its sets give. It is used only when
    it was made for the profile's metrics, holds every set from early enough, and
    ``reports`` is at least the school's report count now (nothing came since).
    """

    __tablename__ = "school_columns"

    school_uai: Mapped[str] = mapped_column(ForeignKey("schools.uai", ondelete="CASCADE"), primary_key=True)
    metrics: Mapped[str] = mapped_column(String(32))  # digest of the metric names, in the plan's order
    since_us: Mapped[int] = mapped_column(BigInteger)  # every set taken from then on is in
    reports: Mapped[int] = mapped_column(Integer)  # the school's report count when its sets were read
    sets: Mapped[int] = mapped_column(Integer)
    times: Mapped[bytes] = mapped_column(LargeBinary)  # int64 µs per set, in time order
    present: Mapped[bytes] = mapped_column(LargeBinary)  # uint16 index of each metric some set has
    vals: Mapped[bytes] = mapped_column(LargeBinary)  # those metrics' values, metric after metric (doubles)
    extra: Mapped[str] = mapped_column(Text)  # JSON: rooms and devices, metrics limited by the client
