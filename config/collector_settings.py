"""The collector's settings, declared once and validated at load."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from config.loading import load_toml
from config.rooms import check_room_pattern


class SmtpSettings(BaseModel):
    """The mail server alerts are sent through (``[alerts.smtp]``)."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, description="the SMTP server's name or address")
    port: int = Field(default=587, ge=1, le=65535)
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", description="the From address")
    security: Literal["starttls", "tls", "none"] = "starttls"  # "none": a relay on the machine only
    username: str | None = None
    password: str | None = None
    timeout_s: float = Field(default=30, gt=0, le=600)


class AlertSettings(BaseModel):
    """How alerts are delivered (``[alerts]``): e-mail through ``smtp``, webhooks, retries, digests."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    smtp: SmtpSettings | None = None  # None: e-mail subscriptions wait, with the reason in the log
    webhook_timeout_s: float = Field(default=10, gt=0, le=120)
    max_attempts: int = Field(default=8, ge=1, le=100)
    # Seconds before the first retry; each next one waits twice as long, up to retry_max_s.
    retry_s: float = Field(default=60, gt=0)
    retry_max_s: float = Field(default=6 * 3600, gt=0)
    digest_hour: int = Field(default=7, ge=0, le=23, description="UTC hour the daily digests leave")
    # A delivery claimed by a process that then stopped is tried again after this many seconds.
    claim_s: float = Field(default=300, gt=0, le=3600)


class RetentionSettings(BaseModel):
    """How long the collector keeps what agents send (docs/privacy.md), applied by the purge."""

    model_config = ConfigDict(extra="forbid")

    # Reports whole (their payload and samples), then only each school's daily aggregates (per day,
    # metric and room: count, mean, median, min, max). At least the profile's longest rule window and the
    # 30 days the school page charts: the purge refuses a shorter one.
    report_days: int = Field(default=90, ge=1, le=3660)
    # Neighbours' network names (SSID) and addresses (BSSID) heard in Wi-Fi scans: dropped from the
    # stored reports after this many days, once the loi Abeille check (W1, 7 days) no longer reads them;
    # the school's own SSIDs stay. At least 7.
    neighbour_networks_days: int = Field(default=7, ge=7, le=3660)
    # The serving collector purges once a night at this time (UTC, HH:MM); nightly = false: only the
    # command does.
    nightly: bool = True
    nightly_at: str = Field(default="03:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class CollectorSettings(BaseModel):
    """Everything a collector's settings file may hold; every field has a default."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    db_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite in data_dir when unset")
    data_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8470, ge=1, le=65535)
    profile_path: Path | None = None
    enroll_code_ttl_hours: float = Field(default=72, gt=0, le=24 * 90)
    # The hostname pattern new enrolment codes carry unless given their own (config/rooms.py): the room of
    # a machine enrolled without --room, e.g. '^(?P<room>[A-Z0-9]+)-PC\\d+$' (CM1-PC03 is in room CM1).
    enroll_room_pattern: str | None = None
    # The collector's address as browsers reach it (https://socle.example.fr/): the speed-test QR codes.
    public_url: str | None = None
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    # Addresses (or "*") of reverse proxies whose X-Forwarded-For/-Proto are believed.
    trusted_proxies: list[str] = Field(default_factory=list)
    rate_limit_per_minute: float = Field(default=120, ge=0, description="per credential; 0 turns it off")
    rate_limit_burst: int = Field(default=60, ge=1)
    workers: int = Field(default=1, ge=1, le=64)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    log_format: Literal["text", "json"] = "text"
    # Speed tests (ndt7) at once per process: each takes the school's link whole.
    ndt7_max_concurrent: int = Field(default=4, ge=1, le=256)
    # Speed tests only for enrolled agents and holders of a speed-test code (off: anyone who reaches it).
    ndt7_requires_credential: bool = False
    # Connections per process (None: the open-file limit less what the process needs besides), how long a
    # request may take to arrive whole, and how long a kept-alive connection may sit idle.
    max_connections: int | None = Field(default=None, ge=16)
    request_timeout_s: float = Field(default=30, gt=0, le=600)
    keep_alive_s: float = Field(default=5, gt=0, le=600)
    # The dashboard's sign-in: a session ends after its lifetime, or once idle this long.
    dashboard_session_hours: float = Field(default=12, gt=0, le=24 * 30)
    dashboard_idle_minutes: float = Field(default=60, gt=0, le=24 * 60 * 30)
    # Failed sign-ins and unknown bearer tokens per client address (0 turns the limit off).
    auth_failures_per_minute: float = Field(default=10, ge=0)
    auth_failures_burst: int = Field(default=20, ge=1)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    @field_validator("enroll_room_pattern")
    @classmethod
    def _room_pattern(cls, value: str | None) -> str | None:
        return None if value is None else check_room_pattern(value)


def load_collector_settings(path: Path | None) -> CollectorSettings:
    """Load the settings file, or the defaults when there is none."""
    if path is None:
        return CollectorSettings()
    return load_toml(path, CollectorSettings)
