"""The agent's settings, declared once and validated at load."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from config.loading import load_toml


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class CollectorLink(_Section):
    """How the agent reaches its collector (the URL itself comes from enrolment)."""

    url: HttpUrl | None = None
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    ca_file: Path | None = None


class LatencySettings(_Section):
    """The latency probe: how many round trips and how far apart."""

    samples: int = Field(default=10, ge=3, le=200)
    interval_s: float = Field(default=0.05, ge=0, le=10)
    timeout_s: float = Field(default=2.0, gt=0, le=30)


class LanSettings(_Section):
    """The LAN probe: gateway round trips, DNS timing, path MTU and (opt-in) ARP discovery."""

    gateway: str | None = None  # None: the default route's gateway
    samples: int = Field(default=10, ge=1, le=200)
    interval_s: float = Field(default=0.05, ge=0, le=10)
    timeout_s: float = Field(default=1.0, gt=0, le=30)
    tcp_port: int = Field(default=53, ge=1, le=65535)  # unprivileged fallback target port
    dns_server: str | None = None  # None: the system resolver
    dns_names: list[str] = Field(
        default_factory=lambda: ["educonnect.education.gouv.fr", "www.education.gouv.fr"])
    mtu_target: str | None = None  # None: the gateway
    arp_scan: bool = False  # opt-in: sends one ARP request per address of the subnet
    arp_max_hosts: int = Field(default=256, ge=1, le=4096)
    arp_interval_s: float = Field(default=0.01, ge=0.001, le=1)


class ServiceTarget(_Section):
    """One online service to check."""

    name: str = Field(min_length=1, max_length=100)
    url: str = Field(pattern=r"^https?://")


class ServicesSettings(_Section):
    """The services probe (F4): which services, through which resolver and CA."""

    services: list[ServiceTarget] = Field(default_factory=lambda: [
        ServiceTarget(name="ÉduConnect", url="https://educonnect.education.gouv.fr/"),
        ServiceTarget(name="Scolarité services", url="https://teleservices.education.gouv.fr/"),
    ])
    ent_url: str | None = Field(default=None, pattern=r"^https?://")  # the school's ENT
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    dns_server: str | None = None  # None: the system resolver
    ca_file: Path | None = None  # extra CA (a school proxy that inspects TLS); system CAs otherwise
    captive_url: str | None = "http://detectportal.firefox.com/success.txt"
    captive_expect: str = "success"


class FilteringSettings(_Section):
    """The filtering probe (F1): URLs that must be blocked and URLs that must pass."""

    must_block: list[str] = Field(default_factory=list)
    must_allow: list[str] = Field(default_factory=list)
    block_page_markers: list[str] = Field(default_factory=list)  # text of the filter's block page
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    dns_server: str | None = None
    ca_file: Path | None = None


class BandwidthSettings(_Section):
    """The ndt7 bandwidth probe: how long, how many bytes, against which server."""

    server: str | None = Field(default=None, pattern=r"^(https?|wss?)://")  # None: the collector
    max_duration_s: float = Field(default=10.0, gt=0, le=30)  # per direction
    min_duration_s: float = Field(default=3.0, gt=0, le=30)  # before an early, stable stop
    stable_tolerance_pct: float = Field(default=3.0, gt=0, le=50)
    # Both directions (75 % down, 25 % up): lets 300 Mbit/s reach a steady window; a faster
    # link is measured from a shorter transfer, flagged (docs/benchmarks.md).
    max_mb_per_test: float = Field(default=100.0, gt=0, le=10_000)
    monthly_budget_mb: float | None = Field(default=4000.0, gt=0)  # None: no monthly budget
    usage_file: Path | None = None  # None: bandwidth-usage.json in the agent's state directory
    idle_samples: int = Field(default=10, ge=10, le=200)
    # ICMP echoes, when privileged: 200 with none lost give a 95 % interval of 0-1.8 %, narrow enough
    # to judge (config/confidence.py); 100 never do (0-3.6 %). 10 ms apart: about 3 s.
    loss_probes: int = Field(default=200, ge=10, le=1000)
    open_timeout_s: float = Field(default=10.0, gt=0, le=60)


class ProbeSettings(_Section):
    """Which probes run and how long each may take."""

    # Filtering is left out by default: it needs the district's own URL lists.
    # displays is cheap (a few sysfs files or one WMI query) and feeds the equipment verdict.
    enabled: list[str] = Field(default_factory=lambda: [
        "device", "latency", "bandwidth", "lan", "services", "wifi", "displays"])
    timeout_s: float = Field(default=60.0, gt=0, le=3600)
    latency: LatencySettings = Field(default_factory=LatencySettings)
    disk_path: Path | None = None
    os_support_file: Path | None = None  # None: the bundled config/os_support.toml
    lan: LanSettings = Field(default_factory=LanSettings)
    services: ServicesSettings = Field(default_factory=ServicesSettings)
    filtering: FilteringSettings = Field(default_factory=FilteringSettings)
    bandwidth: BandwidthSettings = Field(default_factory=BandwidthSettings)


_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class LightCheckSettings(_Section):
    """Short periodic checks in school hours (reachability, Wi-Fi link)."""

    enabled: bool = True
    probes: list[str] = Field(default_factory=lambda: ["latency", "wifi"])
    every_min: int = Field(default=15, ge=1, le=24 * 60)
    days: str = Field(default="mon-fri", min_length=3)  # APScheduler day_of_week syntax
    start: str = Field(default="08:00", pattern=_HHMM)
    end: str = Field(default="17:00", pattern=_HHMM)


class ScheduleSettings(_Section):
    """When ``socle-agent run`` checks: a nightly full check inside a window, at a per-agent offset."""

    timezone: str = "Europe/Paris"
    nightly_enabled: bool = True
    window_start: str = Field(default="01:00", pattern=_HHMM)
    window_end: str = Field(default="05:00", pattern=_HHMM)  # may be before start: the window wraps
    catch_up: bool = True  # run once soon after start when the last night's check was missed
    catch_up_delay_max_s: float = Field(default=600.0, ge=0, le=24 * 3600)  # spread a fleet's catch-ups
    deliver_every_s: float = Field(default=300.0, ge=5, le=24 * 3600)  # spool flush attempts
    rotate_credential_days: float | None = Field(default=90.0, gt=0, le=3650)  # None: never rotate
    light: LightCheckSettings = Field(default_factory=LightCheckSettings)


class SpoolSettings(_Section):
    """The durable spool of reports waiting to be sent, and how they are sent."""

    path: Path | None = None  # None: spool.sqlite3 in the state directory
    max_mb: float = Field(default=50.0, gt=0, le=10_000)
    max_age_days: float = Field(default=30.0, gt=0, le=3650)
    batch_size: int = Field(default=50, ge=1, le=500)
    batch_max_kb: int = Field(default=512, ge=16, le=100_000)
    backoff_base_s: float = Field(default=5.0, gt=0, le=3600)
    backoff_cap_s: float = Field(default=3600.0, gt=0, le=7 * 24 * 3600)
    retry_after_cap_s: float = Field(default=6 * 3600.0, gt=0, le=7 * 24 * 3600)
    attempts_per_flush: int = Field(default=3, ge=1, le=100)  # then wait for the next delivery job


class AgentSettings(_Section):
    """Everything an agent's settings file may hold; every field has a default."""

    collector: CollectorLink = Field(default_factory=CollectorLink)
    probes: ProbeSettings = Field(default_factory=ProbeSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    spool: SpoolSettings = Field(default_factory=SpoolSettings)
    profile_path: Path | None = None


def load_agent_settings(path: Path | None) -> AgentSettings:
    """Load the settings file, or the defaults when there is none."""
    if path is None:
        return AgentSettings()
    return load_toml(path, AgentSettings)
