"""The collector's tables (SQLAlchemy ORM). Kept apart from the wire models."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine


class Base(DeclarativeBase):
    """Base of every table."""


class JsonText(TypeDecorator[Any]):
    """A JSON value kept as its text: PostgreSQL's ``text`` (its ``json`` type would parse every
    payload again on insert, a sixth of the server's time per stored report, for JSON the collector
    has just validated: migration 0009); SQLite's JSON column, which is text already."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return Text() if dialect.name == "postgresql" else JSON()

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "postgresql" and value is not None:
            return json.dumps(value)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "postgresql" and value is not None:
            return json.loads(value)
        return value


class School(Base):
    """A school, by its UAI. Its text fields are checked by config/school_fields.py before they come
    here (the lengths below are those of :data:`~config.school_fields.LIMITS` or longer)."""

    __tablename__ = "schools"

    uai: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    commune: Mapped[str] = mapped_column(String(200), index=True)
    departement: Mapped[str | None] = mapped_column(String(8), index=True, default=None)
    academie: Mapped[str | None] = mapped_column(String(100), index=True, default=None)
    school_type: Mapped[str | None] = mapped_column(String(100), default=None)
    pupils: Mapped[int | None] = mapped_column(Integer, default=None)
    staff: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # From the directory (migration 0012): the INSEE commune code, the inspection district, where the
    # school is, its mailbox, priority education, public or private, and its opening state.
    commune_code: Mapped[str | None] = mapped_column(String(5), index=True, default=None)
    circonscription: Mapped[str | None] = mapped_column(String(100), default=None)
    circonscription_code: Mapped[str | None] = mapped_column(String(8), index=True, default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    priority_education: Mapped[str | None] = mapped_column(String(4), default=None)  # REP, REP+
    sector: Mapped[str | None] = mapped_column(String(8), default=None)  # public, private
    state: Mapped[str | None] = mapped_column(String(8), default=None)  # open, closing, opening, closed
    # The number of classes and where it came from: an open-data file and its rentrée, or an admin.
    classes: Mapped[int | None] = mapped_column(Integer, default=None)
    classes_origin: Mapped[str | None] = mapped_column(String(8), default=None)  # import, admin
    classes_file: Mapped[str | None] = mapped_column(String(200), default=None)
    classes_year: Mapped[int | None] = mapped_column(Integer, default=None)
    classes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class SchoolContract(Base):
    """A school's internet contract: provider, technology and the contracted rates (migration 0013)."""

    __tablename__ = "school_contracts"

    school_uai: Mapped[str] = mapped_column(ForeignKey("schools.uai", ondelete="CASCADE"), primary_key=True)
    provider: Mapped[str] = mapped_column(String(100))
    technology: Mapped[str] = mapped_column(String(16))  # fibre, copper, mobile (4G/5G), satellite
    download_mbps: Mapped[float] = mapped_column(Float)
    upload_mbps: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(200))  # the imported file and line, or "admin"
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeclaredItem(Base):
    """Equipment an admin or technician declared for a school's room, or for the school as a whole
    (``room`` empty): what no agent sees (collector/equipment/declared.py, migration 0018). ``count`` is
    how many the room (or school) has in all; 0 declares there is none."""

    __tablename__ = "declared_equipment"
    __table_args__ = (UniqueConstraint("school_uai", "room", "item", name="uq_declared_equipment_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    school_uai: Mapped[str] = mapped_column(ForeignKey("schools.uai", ondelete="CASCADE"), index=True)
    room: Mapped[str] = mapped_column(String(200))
    item: Mapped[str] = mapped_column(String(24))  # config.equipment.Item
    count: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(200), default=None)
    declared_by: Mapped[str] = mapped_column(String(200))  # the token's label and role, or the CLI's user
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(200))  # command line, dashboard, or the imported file and line


class EnrollCode(Base):
    """A school's enrolment code: spent once by default, or ``max_uses`` times (a room's worth of PCs)
    until it expires or is revoked; ``used_at`` is its last use."""

    __tablename__ = "enroll_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    school_uai: Mapped[str] = mapped_column(ForeignKey("schools.uai"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    max_uses: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    uses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # A regular expression with a (?P<room>...) group: the room of a machine enrolled without --room.
    room_pattern: Mapped[str | None] = mapped_column(String(300), default=None)
    label: Mapped[str | None] = mapped_column(String(200), default=None)


class EnrollUse(Base):
    """One use of an enrolment code: which agent it made, when, and from where."""

    __tablename__ = "enroll_uses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code_hash: Mapped[str] = mapped_column(ForeignKey("enroll_codes.code_hash"), index=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.agent_id"))
    used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    hostname: Mapped[str] = mapped_column(String(200))
    instance_id: Mapped[str] = mapped_column(String(36))
    room: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(64), default=None)  # the client's IP address
    moved_from: Mapped[str | None] = mapped_column(String(8), default=None)  # the school it left, if any


class AgentRow(Base):
    """An enrolled agent and the hash of its credential."""

    __tablename__ = "agents"

    agent_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_uai: Mapped[str] = mapped_column(ForeignKey("schools.uai"), index=True)
    room: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    instance_id: Mapped[str] = mapped_column(String(36), index=True)
    hostname: Mapped[str] = mapped_column(String(200))
    agent_version: Mapped[str] = mapped_column(String(40))
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # What the machine is for (config.wire.DeviceRole), said at enrolment or set later (migration 0018).
    role: Mapped[str | None] = mapped_column(String(8), default=None)
    # Its newest displays reading, kept by ingest: the displays as JSON text, and the time of the report
    # that gave them (collector/db/displays.py, migration 0022).
    displays_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    displays: Mapped[str | None] = mapped_column(Text, default=None)
    # How many times its equipment facts changed: a new displays reading, back in the window after a
    # silence (or its first report), a role set (collector/db/displays.py ``WINDOW``, migration 0023).
    equipment_changes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ApiToken(Base):
    """A token for people and tools reading the API (readers, admins)."""

    __tablename__ = "api_tokens"

    token_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str] = mapped_column(String(100), default="all")
    label: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class DashboardSession(Base):
    """A browser's sign-in to the dashboard: found by the hash of its random id, ended by sign-out,
    by its lifetime, by being idle, or with its API token (collector/auth/sessions.py)."""

    __tablename__ = "dashboard_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_id: Mapped[str] = mapped_column(ForeignKey("api_tokens.token_id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class HealthWrite(Base):
    """One row, written by every health check: writes that fail (a full disk) show there first."""

    __tablename__ = "health_writes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReportRow(Base):
    """A report as received, kept whole."""

    __tablename__ = "reports"
    # The one index besides the primary key: a school's reports in time order (its Wi-Fi history, its
    # agents' latest reports). Every index costs each stored report a page write (migration 0008).
    __table_args__ = (Index("ix_reports_school_time", "school_uai", "taken_at", "agent_id"),)

    report_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.agent_id"))
    school_uai: Mapped[str] = mapped_column(ForeignKey("schools.uai"))
    room: Mapped[str] = mapped_column(String(200))
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict] = mapped_column(JsonText)


class SampleLayout(Base):
    """The metric names of a sample set, in order, under a digest of them (collector/db/sample_sets.py)."""

    __tablename__ = "sample_layouts"

    digest: Mapped[str] = mapped_column(String(32), primary_key=True)
    metrics: Mapped[str] = mapped_column(Text)  # the names, one per line


class SampleSetRow(Base):
    """A report's samples as one row: the layout's values packed (collector/db/sample_sets.py)."""

    __tablename__ = "sample_sets"
    __table_args__ = (Index("ix_sample_sets_school_time", "school_uai", "taken_us"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Not indexed: sets are read by school and time; ingest writes one only for a report it has just
    # inserted (migration 0008).
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.report_id", ondelete="CASCADE"))
    school_uai: Mapped[str] = mapped_column(String(8))
    room: Mapped[str] = mapped_column(String(200))
    device: Mapped[str] = mapped_column(String(220))
    taken_us: Mapped[int] = mapped_column(BigInteger)  # microseconds since the epoch, UTC
    layout: Mapped[str] = mapped_column(ForeignKey("sample_layouts.digest"))
    vals: Mapped[bytes] = mapped_column(LargeBinary)  # little-endian doubles, in the layout's order
    times: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)  # int64 µs per value, or None
    limited: Mapped[str | None] = mapped_column(Text, default=None)  # JSON {value index: cause}, or None


class AgentIncarnation(Base):
    """One machine seen behind an agent's credential (see docs/agent-operations.md, cloned images).

    The agent sends an incarnation with each request: a digest of its instance ID
    and of what differs between two machines (the boot ID). One that reappears
    after a newer one was first seen proves two live machines share the credential.
    """

    __tablename__ = "agent_incarnations"

    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.agent_id", ondelete="CASCADE"), primary_key=True)
    incarnation: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    clone_detected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    replaced_by: Mapped[str | None] = mapped_column(String(36), default=None)  # the clone's new agent_id


class AgentPreviousToken(Base):
    """A credential replaced by a rotation, accepted until the new one is first used (or it expires)."""

    __tablename__ = "agent_previous_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.agent_id", ondelete="CASCADE"), index=True)
    retired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SchoolWifi(Base):
    """A school's own Wi-Fi: its SSIDs and teaching hours, for the loi Abeille check (W1)."""

    __tablename__ = "school_wifi"

    school_uai: Mapped[str] = mapped_column(ForeignKey("schools.uai", ondelete="CASCADE"), primary_key=True)
    ssids: Mapped[list[str]] = mapped_column(JSON, default=list)
    teaching_hours: Mapped[str] = mapped_column(String(200))  # config.compliance.parse_hours syntax
    timezone: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DailyAggregate(Base):
    """What stays of a school's reports once the retention has passed (collector/retention/purge.py):
    per UTC day, metric and room, the figures of its samples. No device, no payload."""

    __tablename__ = "daily_aggregates"

    school_uai: Mapped[str] = mapped_column(ForeignKey("schools.uai", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(100), primary_key=True)
    room: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    total: Mapped[float] = mapped_column(Float)  # the sum, for the mean
    median: Mapped[float] = mapped_column(Float)  # of the samples reduced first (see docs/privacy.md)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)


class PurgeState(Base):
    """What the purge has done so far (collector/retention/purge.py): by name, a moment."""

    __tablename__ = "purge_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
