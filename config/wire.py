"""The wire contract: every model that crosses between agent and collector.

Both sides import this module; neither imports the other's runtime code (a test
enforces it). Field names carry their units (``_mbps``, ``_ms``, ``_dbm``,
``_pct``, ``_gb``, ``_s``). A value that could not be measured is ``None`` and
its reason is kept in the measurement's ``missing`` map — never a made-up number.

A report carries a client-made ``report_id`` so that delivery is idempotent, and
``schema_version`` so that the collector can refuse what it does not understand.
"""

from __future__ import annotations

import math
import typing
import uuid
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

import annotated_types
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)
from pydantic.fields import FieldInfo

from config.compat import UTC, StrEnum
from config.equipment import EquipmentVerdict
from config.profile import Profile
from config.school_fields import (
    Academie,
    Circonscription,
    ClassCount,
    CommuneCode,
    CommuneName,
    Count,
    DepartementCode,
    Email,
    Latitude,
    Longitude,
    SchoolName,
    SchoolType,
    SourceText,
    UaiCode,
    plain_text,
)
from config.uai import validate_uai

SCHEMA_VERSION: Literal[1] = 1

# The header each agent request carries its incarnation in (agent/identity.py), and the
# longest value the collector accepts (the agent sends 32 hex digits).
INCARNATION_HEADER = "X-Socle-Incarnation"
INCARNATION_MAX_CHARS = 64

Uai = Annotated[str, AfterValidator(validate_uai)]
# A name that becomes a column (a room, a host): one line of printable text, as a school's text is.
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(plain_text)]

# The largest value a quantity an agent sends may take, by the unit its name ends with: beyond it the
# report is refused (422, with the field's path), so no figure a machine cannot measure is stored,
# passes a rule or overflows an aggregate. A field that needs another bound says so in its own Field.
UNIT_LIMITS: dict[str, float] = {
    "_mbps": 100_000.0,  # 100 Gbit/s
    "_ms": 86_400_000.0,  # a day
    "_s": 86_400.0,  # a day
    "_gb": 1_000_000.0,  # a petabyte
    "_mb": 1_000_000_000.0,
    "_bytes": 1e15,
    "_pct": 100.0,
    "_dbm": 0.0,
    "_db": 200.0,
    "_mhz": 10_000.0,
    "_c": 200.0,  # degrees Celsius
    "_hz": 1_000.0,
    "_px": 100_000.0,
    "_cm": 10_000.0,
    "_in": 1_000.0,  # inches
}
COUNT_LIMIT = 10_000_000  # a number without a unit is a count: samples, stations, devices
TEXT_LIMIT = 2_000  # characters of a text that has no length of its own
LIST_LIMIT = 1_000  # items of a list that has no length of its own


def _bound(name: str) -> float:
    return next((v for unit, v in UNIT_LIMITS.items() if name.endswith(unit)), COUNT_LIMIT)


def _has(info: FieldInfo, kinds: tuple[type, ...]) -> bool:
    return any(isinstance(m, kinds) for m in info.metadata)


def _leaf(annotation: Any) -> set[Any]:
    args = typing.get_args(annotation)
    return {a for a in (args or (annotation,)) if a is not type(None)}


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Sent(_Wire):
    """A model an agent sends: every number gets an upper bound by its unit (:data:`UNIT_LIMITS`),
    every text and list a length, where the field declares none. Applied once, when the class is made;
    tests/test_contract.py checks that no field is left unbounded."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        changed = False
        for name, info in cls.model_fields.items():
            leaf = _leaf(info.annotation)
            if leaf & {int, float} and bool not in leaf and not _has(info, (annotated_types.Le,
                                                                            annotated_types.Lt)):
                info.metadata.append(annotated_types.Le(_bound(name)))
                changed = True
            elif leaf == {str} and not _has(info, (annotated_types.MaxLen,)):
                info.metadata.append(annotated_types.MaxLen(TEXT_LIMIT))
                changed = True
            elif typing.get_origin(info.annotation) is list and not _has(info, (annotated_types.MaxLen,)):
                info.metadata.append(annotated_types.MaxLen(LIST_LIMIT))
                changed = True
        if changed:
            cls.model_rebuild(force=True)


class ProbeStatus(StrEnum):
    """How a probe ended: a value, never an exception."""

    ok = "ok"
    degraded = "degraded"  # measured, but something limited the figure
    unavailable = "unavailable"  # nothing to measure here (no card, no tool, no permission)
    error = "error"  # the probe broke; the reason says how


class Measurement(_Sent):
    """Base of every probe's measurement: ``missing`` maps a field to why it is absent.

    ``KEPT_ON_ERROR`` names the fields that stay measured when the probe ends in ``error``
    (config/samples.py turns only those into samples then).
    ``doubtful`` maps a field that *is* there to why the probe cannot vouch for
    it (its windows disagree, the client was starved, a loss from too few
    probes): shown, but never judged by the rules (config/samples.py).
    """

    KEPT_ON_ERROR: ClassVar[tuple[str, ...]] = ()

    missing: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=500)]] = Field(
        default_factory=dict, max_length=64)
    doubtful: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=500)]] = Field(
        default_factory=dict, max_length=64)


class DeviceMeasurement(Measurement):
    """Health of the machine the agent runs on (psutil and the OS)."""

    kind: Literal["device"] = "device"
    os_name: str | None = None
    os_version: str | None = None
    cpu_model: str | None = None
    cpu_cores_physical: int | None = Field(default=None, ge=1)
    cpu_cores_logical: int | None = Field(default=None, ge=1)
    cpu_load_1m: float | None = Field(default=None, ge=0)
    ram_total_gb: float | None = Field(default=None, ge=0)
    ram_available_gb: float | None = Field(default=None, ge=0)
    disk_path: str | None = None
    disk_total_gb: float | None = Field(default=None, ge=0)
    disk_free_gb: float | None = Field(default=None, ge=0)
    disk_free_pct: float | None = Field(default=None, ge=0, le=100)
    uptime_s: float | None = Field(default=None, ge=0, le=20 * 365 * 86400)  # years, not a day
    disk_kind: Literal["ssd", "hdd"] | None = None
    disk_is_ssd: bool | None = None  # disk_kind == "ssd", as a number rules can read
    battery_present: bool | None = None
    battery_charge_pct: float | None = Field(default=None, ge=0, le=100)
    battery_health_pct: float | None = Field(default=None, ge=0, le=200)  # full / design capacity
    os_supported: bool | None = None
    os_support_ends: date | None = None
    # collector's clock minus ours: a broken clock may be years off (collector/ingest/clock.py)
    clock_offset_ms: float | None = Field(default=None, ge=-100 * 365 * 86400e3, le=100 * 365 * 86400e3)
    link_interface: str | None = None
    link_speed_mbps: float | None = Field(default=None, ge=0)
    link_duplex: Literal["full", "half"] | None = None
    temperature_c: float | None = Field(default=None, ge=-100)  # hottest sensor the OS reports


class LanMeasurement(Measurement):
    """The school's LAN as this device sees it: gateway, DNS, IPv6, MTU, neighbours."""

    kind: Literal["lan"] = "lan"
    gateway: str | None = None
    gateway_method: str | None = None  # "icmp" (scapy, privileged) or "tcp:PORT" (fallback)
    gateway_samples_sent: int = Field(default=0, ge=0)
    gateway_samples_ok: int = Field(default=0, ge=0)
    gateway_rtt_median_ms: float | None = Field(default=None, ge=0)
    gateway_rtt_max_ms: float | None = Field(default=None, ge=0)
    gateway_jitter_ms: float | None = Field(default=None, ge=0)
    gateway_loss_pct: float | None = Field(default=None, ge=0, le=100)
    gateway_loss_ci_low_pct: float | None = Field(default=None, ge=0, le=100)  # 95 %: config/confidence.py
    gateway_loss_ci_high_pct: float | None = Field(default=None, ge=0, le=100)
    dns_server: str | None = None  # None: the system resolver
    dns_names_total: int = Field(default=0, ge=0)
    dns_names_ok: int = Field(default=0, ge=0)
    dns_median_ms: float | None = Field(default=None, ge=0)
    dns_max_ms: float | None = Field(default=None, ge=0)
    ipv6_address: bool | None = None  # a global IPv6 address on an interface
    ipv6_default_route: bool | None = None
    path_mtu_bytes: int | None = Field(default=None, ge=0)
    mtu_target: str | None = None
    mtu_problem: bool | None = None  # the path carries less than a full 1500-byte packet
    arp_devices: int | None = Field(default=None, ge=0)
    arp_vendors: dict[Annotated[str, Field(max_length=100)], Annotated[int, Field(ge=0, le=COUNT_LIMIT)]] = \
        Field(default_factory=dict, max_length=256)


class ServiceCheck(_Sent):
    """One online service, step by step: DNS, TCP, TLS, HTTP."""

    name: str
    url: str
    address: str | None = None
    dns_ms: float | None = Field(default=None, ge=0)
    tcp_ms: float | None = Field(default=None, ge=0)
    tls_ms: float | None = Field(default=None, ge=0)
    http_status: int | None = None
    total_ms: float | None = Field(default=None, ge=0)
    cert_valid: bool | None = None
    cert_not_after: datetime | None = None
    reachable: bool = False
    failed_step: Literal["dns", "tcp", "tls", "http"] | None = None
    error: str | None = Field(default=None, max_length=500)


class ServicesMeasurement(Measurement):
    """The school's online services (ÉduConnect, the ministry's, the ENT) and captive portals."""

    kind: Literal["services"] = "services"
    services: list[ServiceCheck] = Field(default_factory=list, max_length=64)
    services_total: int = Field(default=0, ge=0)
    services_reachable: int = Field(default=0, ge=0)
    all_reachable: bool | None = None
    slowest_total_ms: float | None = Field(default=None, ge=0)
    captive_portal: bool | None = None


class FilterCheck(_Sent):
    """One URL of the filtering test and what became of it."""

    url: str
    expect: Literal["blocked", "allowed"]
    verdict: Literal["blocked", "allowed", "error"]
    how: str | None = Field(default=None, max_length=300)  # e.g. "dns: NXDOMAIN", "http 403"


class FilteringMeasurement(Measurement):
    """Whether web filtering is in place: what must be blocked is, what must pass does."""

    kind: Literal["filtering"] = "filtering"
    checks: list[FilterCheck] = Field(default_factory=list, max_length=64)
    must_block_total: int = Field(default=0, ge=0)
    must_block_blocked: int = Field(default=0, ge=0)
    must_allow_total: int = Field(default=0, ge=0)
    must_allow_allowed: int = Field(default=0, ge=0)
    in_place: bool | None = None  # every must-block URL blocked
    over_blocking: bool | None = None  # a must-allow URL blocked


class LatencyMeasurement(Measurement):
    """Small HTTP round trips to the collector: how far and how steady it is."""

    kind: Literal["latency"] = "latency"
    target: str
    method: str = "http"
    samples_sent: int = Field(ge=0)
    samples_ok: int = Field(ge=0)
    rtt_min_ms: float | None = Field(default=None, ge=0)
    rtt_median_ms: float | None = Field(default=None, ge=0)
    rtt_max_ms: float | None = Field(default=None, ge=0)
    jitter_ms: float | None = Field(default=None, ge=0)
    loss_pct: float | None = Field(default=None, ge=0, le=100)  # of samples_sent round trips
    loss_ci_low_pct: float | None = Field(default=None, ge=0, le=100)  # 95 % interval: config/confidence.py
    loss_ci_high_pct: float | None = Field(default=None, ge=0, le=100)
    # Whether the collector answered over the school's link — the internet access works as far as the
    # collector — at least once in this check (True), or never (False, every request failed in transit).
    # None: not checked (an agent from before this field, or no collector to ask). A13 counts it.
    internet_reachable: bool | None = None

    # Fields measured even when the probe ends in error: an unreachable collector is a finding.
    KEPT_ON_ERROR: ClassVar[tuple[str, ...]] = ("internet_reachable",)


Band = Literal["2.4GHz", "5GHz", "6GHz"]
SignalDbm = Annotated[float, Field(ge=-150, le=0)]
Pct = Annotated[float, Field(ge=0, le=100)]


class WifiNetwork(_Sent):
    """One access point (BSS) heard in a scan, as the tool reported it.

    Tools that give only a quality percentage (netsh, nmcli) fill
    ``signal_quality_pct`` and leave ``signal_dbm`` None: a percentage is never
    turned into dBm.
    """

    ssid: str | None = Field(default=None, max_length=64)  # "" = hidden network
    bssid: str | None = None
    channel: int | None = Field(default=None, ge=1, le=233)
    frequency_mhz: int | None = Field(default=None, ge=2400, le=7200)
    band: Band | None = None
    channel_width_mhz: int | None = Field(default=None, ge=5, le=320)
    signal_dbm: SignalDbm | None = None
    signal_quality_pct: Pct | None = None
    noise_dbm: SignalDbm | None = None
    security: str | None = Field(default=None, max_length=40)
    phy: str | None = Field(default=None, max_length=8)
    channel_utilisation_pct: Pct | None = None
    stations: int | None = Field(default=None, ge=0)


class WifiLink(_Sent):
    """One link of a Wi-Fi 7 multi-link (MLO) connection, as ``iw`` lists it.

    ``bssid`` is the link's own access-point address (what a scan lists);
    the connection's ``mld_address`` is kept on the measurement. ``in_use``
    is True for the link the output shows carrying the traffic, None when
    the output does not tell.
    """

    link_id: int | None = Field(default=None, ge=0, le=15)
    bssid: str | None = None
    frequency_mhz: int | None = Field(default=None, ge=2400, le=7200)
    channel: int | None = Field(default=None, ge=1, le=233)
    band: Band | None = None
    channel_width_mhz: int | None = Field(default=None, ge=5, le=320)
    in_use: bool | None = None


class WifiInterfaceState(_Sent):
    """Another Wi-Fi interface of the same machine, besides the one measured."""

    interface: str | None = None
    mode: str | None = Field(default=None, max_length=16)
    connected: bool | None = None
    ssid: str | None = Field(default=None, max_length=64)
    bssid: str | None = None
    frequency_mhz: int | None = Field(default=None, ge=2400, le=7200)
    channel: int | None = Field(default=None, ge=1, le=233)
    band: Band | None = None
    channel_width_mhz: int | None = Field(default=None, ge=5, le=320)
    signal_dbm: SignalDbm | None = None
    signal_quality_pct: Pct | None = None


class WifiMeasurement(Measurement):
    """The Wi-Fi link in use and the networks around it.

    ``security`` reads like ``open``, ``WEP``, ``WPA-Personal``,
    ``WPA2-Personal``, ``WPA2/WPA3-Personal``, ``WPA3-Enterprise``, or a bare
    ``WPA2`` when the tool's wording of Personal/Enterprise was not
    recognised; ``security_level`` ranks it for rules (0 open, 1 WEP, 2
    WPA/TKIP only, 3 WPA2/WPA3 Personal or of an untold kind, 4 Enterprise).
    ``channel_plan_ok`` is False for a 2.4 GHz link outside channels 1, 6
    and 11 (W11). ``mode`` is the interface's role (``station``, ``ap``,
    ``monitor``, ``ad-hoc``, ``mesh``): an ``ap`` is the machine's own access
    point, not a link to one. A multi-link (MLO) connection keeps its MLD
    address in ``mld_address`` and each link in ``links``; ``bssid``,
    ``frequency_mhz``, ``channel`` and ``channel_width_mhz`` are then those of
    the link in use, or absent when the output does not tell which.
    """

    kind: Literal["wifi"] = "wifi"
    tool: str
    interface: str | None = None
    connected: bool | None = None
    ssid: str | None = Field(default=None, max_length=64)
    bssid: str | None = None
    frequency_mhz: int | None = Field(default=None, ge=2400, le=7200)
    channel: int | None = Field(default=None, ge=1, le=233)
    band: Band | None = None
    channel_width_mhz: int | None = Field(default=None, ge=5, le=320)
    signal_dbm: SignalDbm | None = None
    noise_dbm: SignalDbm | None = None
    snr_db: float | None = Field(default=None, ge=-50, le=150)
    signal_quality_pct: Pct | None = None
    rx_rate_mbps: float | None = Field(default=None, ge=0)
    tx_rate_mbps: float | None = Field(default=None, ge=0)
    phy: str | None = Field(default=None, max_length=8)  # "n", "ac", "ax", "be"...
    security: str | None = Field(default=None, max_length=40)
    security_level: int | None = Field(default=None, ge=0, le=4)
    channel_plan_ok: bool | None = None
    channel_utilisation_pct: Pct | None = None
    neighbours: list[WifiNetwork] = Field(default_factory=list, max_length=512)
    same_channel_networks: int | None = Field(default=None, ge=0)
    mode: str | None = Field(default=None, max_length=16)
    mld_address: str | None = None
    links: list[WifiLink] = Field(default_factory=list, max_length=16)
    other_interfaces: list[WifiInterfaceState] = Field(default_factory=list, max_length=16)


class WifiSurveyReading(_Sent):
    """One sample of a room survey: the link as the Wi-Fi probe read it at one moment."""

    taken_at: AwareDatetime
    signal_dbm: SignalDbm | None = None
    snr_db: float | None = Field(default=None, ge=-50, le=150)
    signal_quality_pct: Pct | None = None
    bssid: str | None = None
    band: Band | None = None
    channel: int | None = Field(default=None, ge=1, le=233)
    same_channel_networks: int | None = Field(default=None, ge=0)
    reason: str | None = Field(default=None, max_length=300)  # why this sample has no signal


class WifiSurveyMeasurement(Measurement):
    """One room walked by a technician: the link sampled N times, each reading and the summary.

    ``readings`` holds every sample (a lost one keeps its reason and no
    number); the collector turns each into a ``wifi.signal_dbm`` /
    ``wifi.snr_db`` sample of the room, so the per-room rules (W6, W7) judge a
    survey and the periodic readings alike. Shares are over the readings that
    have the value. ``ssid``, ``band`` and ``channel`` are those of most readings.
    """

    kind: Literal["wifi_survey"] = "wifi_survey"
    tool: str | None = None
    interval_s: float | None = Field(default=None, ge=0)
    samples: int = Field(ge=0)
    samples_with_signal: int = Field(ge=0)
    threshold_dbm: float = -67.0
    snr_threshold_db: float = 25.0
    signal_median_dbm: SignalDbm | None = None
    signal_min_dbm: SignalDbm | None = None
    signal_share_ok_pct: Pct | None = None
    snr_median_db: float | None = None
    snr_share_ok_pct: Pct | None = None
    signal_quality_median_pct: Pct | None = None
    ssid: str | None = Field(default=None, max_length=64)
    bssid: str | None = None
    band: Band | None = None
    channel: int | None = Field(default=None, ge=1, le=233)
    same_channel_networks: int | None = Field(default=None, ge=0)  # the most any reading saw
    security: str | None = Field(default=None, max_length=40)
    security_level: int | None = Field(default=None, ge=0, le=4)
    channel_plan_ok: bool | None = None
    channel_utilisation_pct: Pct | None = None
    readings: list[WifiSurveyReading] = Field(default_factory=list, max_length=1000)
    neighbours: list[WifiNetwork] = Field(default_factory=list, max_length=512)


class BandwidthWifi(_Sent):
    """The Wi-Fi link that carried a bandwidth test, read with it (a subset of the Wi-Fi probe's)."""

    interface: str | None = None
    ssid: str | None = Field(default=None, max_length=64)
    bssid: str | None = None
    band: Band | None = None
    channel: int | None = Field(default=None, ge=1, le=233)
    signal_dbm: SignalDbm | None = None
    signal_quality_pct: Pct | None = None
    rx_rate_mbps: float | None = Field(default=None, ge=0)
    tx_rate_mbps: float | None = Field(default=None, ge=0)


class BandwidthMeasurement(Measurement):
    """Internet throughput by ndt7, with the latency and loss seen around it.

    ``download_mbps``/``upload_mbps`` are the median of the window rates
    over the steady part of each transfer (ramp-up left out), counted by the
    receiver: the client's kernel on download, the server on upload
    (``upload_source`` says which count). ``loss_method`` is ``icmp`` (privileged
    echo probes) or ``tcp_retrans`` (retransmitted over sent bytes, which also
    counts congestion drops). An ICMP figure comes with ``loss_samples`` (echoes
    sent) and its 95 % interval (``loss_ci_low_pct``..``loss_ci_high_pct``,
    Clopper-Pearson, config/confidence.py); a TCP one has no interval.
    ``download_windows``/``download_spread_pct`` (and the upload's) say how many
    window rates the figure is the median of and how far apart they are (p10 to
    p90, in % of the median). ``limited_by`` names what capped the figure on the
    agent's side (``client_cpu``, ``wifi``, ``local_link``): shown, but such a
    result cannot by itself fail the school's internet rules.
    """

    kind: Literal["bandwidth"] = "bandwidth"
    server: str
    download_mbps: float | None = Field(default=None, gt=0)  # unknown is None, never 0
    download_p90_mbps: float | None = Field(default=None, gt=0)  # unknown is None, never 0
    upload_mbps: float | None = Field(default=None, gt=0)  # unknown is None, never 0
    upload_p90_mbps: float | None = Field(default=None, gt=0)  # unknown is None, never 0
    download_s: float | None = Field(default=None, ge=0)
    upload_s: float | None = Field(default=None, ge=0)
    download_stop: str | None = None  # stable | max_duration | byte_cap | server_closed
    upload_stop: str | None = None
    upload_source: str | None = None  # server_tcp_info | server_app_info
    idle_latency_min_ms: float | None = Field(default=None, ge=0)
    idle_latency_median_ms: float | None = Field(default=None, ge=0)
    idle_jitter_ms: float | None = Field(default=None, ge=0)
    idle_latency_samples: int = Field(default=0, ge=0)
    loaded_latency_download_ms: float | None = Field(default=None, ge=0)
    loaded_latency_upload_ms: float | None = Field(default=None, ge=0)
    loss_pct: float | None = Field(default=None, ge=0, le=100)
    loss_method: Literal["icmp", "udp", "tcp_retrans"] | None = None
    loss_samples: int | None = Field(default=None, ge=1)  # echoes sent, for an ICMP figure
    loss_ci_low_pct: float | None = Field(default=None, ge=0, le=100)
    loss_ci_high_pct: float | None = Field(default=None, ge=0, le=100)
    download_windows: int | None = Field(default=None, ge=1)
    download_spread_pct: float | None = Field(default=None, ge=0, le=1000)  # p90 - p10 can pass the median
    upload_windows: int | None = Field(default=None, ge=1)
    upload_spread_pct: float | None = Field(default=None, ge=0, le=1000)
    bytes_used: int = Field(default=0, ge=0, le=10**15)
    monthly_used_mb: float | None = Field(default=None, ge=0)
    monthly_budget_mb: float | None = Field(default=None, ge=0)
    interface: str | None = None
    wireless: bool | None = None
    link_speed_mbps: float | None = Field(default=None, ge=0)
    client_cpu_pct: float | None = Field(default=None, ge=0, le=25_600)  # of one core: 256 cores
    client_wait_pct: float | None = Field(default=None, ge=0, le=10_000)  # of the transfer, threads summed
    machine_cpu_pct: float | None = Field(default=None, ge=0, le=100)  # the whole machine's, over the test
    client_limited: bool = False
    limited_by: str | None = None
    wifi: BandwidthWifi | None = None  # when the test's interface is wireless


DisplayKind = Literal["projector", "interactive_display", "monitor", "tv", "internal_panel", "unknown"]
DisplayConnector = Literal["HDMI", "DisplayPort", "DVI", "VGA", "internal", "other"]


class DisplayReading(_Sent):
    """One attached display, decoded from its EDID (or from what the OS tool gives instead).

    ``kind`` is decided from the EDID's structure and documented signals
    (docs/displays.md) and ``kind_reason`` says which ones; ``problems`` lists
    what is wrong with the EDID (bad checksum, fewer blocks than announced),
    which never drops the display. ``width_cm``/``height_cm`` are the EDID's
    image size; absent, with the reason in ``missing``, when the EDID gives
    none (``image_size_undefined``: projectors and many TVs say 0x0).
    ``serial_number`` is bytes 12-15 of the EDID, ``serial`` its 0xFF string.
    """

    source: str = Field(max_length=40)  # sysfs, xrandr, wmi, registry, ioreg, system_profiler, file
    where: str | None = Field(default=None, max_length=300)  # path, instance name or output read
    output: str | None = Field(default=None, max_length=80)  # the OS's name for the output: HDMI-A-1, eDP-1
    connector: DisplayConnector | None = None
    kind: DisplayKind
    kind_reason: str = Field(max_length=300)
    pnp_id: str | None = Field(default=None, max_length=3)
    manufacturer: str | None = Field(default=None, max_length=120)
    product_code: int | None = Field(default=None, ge=0, le=0xFFFF)
    product_code_hex: str | None = Field(default=None, max_length=4)
    serial_number: int | None = Field(default=None, ge=0, le=0xFFFFFFFF)
    serial: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, max_length=40)
    alnum_strings: list[str] = Field(default_factory=list, max_length=8)
    year: int | None = Field(default=None, ge=1990, le=2245)
    week: int | None = Field(default=None, ge=1, le=54)
    model_year: bool | None = None
    edid_version: str | None = Field(default=None, max_length=8)
    digital: bool | None = None
    interface: str | None = Field(default=None, max_length=20)  # EDID 1.4's declared interface
    width_cm: int | None = Field(default=None, ge=1, le=255)
    height_cm: int | None = Field(default=None, ge=1, le=255)
    diagonal_in: float | None = Field(default=None, ge=0)
    image_size_undefined: bool | None = None
    preferred_width_px: int | None = Field(default=None, ge=1)
    preferred_height_px: int | None = Field(default=None, ge=1)
    preferred_refresh_hz: float | None = Field(default=None, ge=0)
    hdmi: bool | None = None  # the CTA block has an HDMI vendor block (the sink has HDMI inputs)
    extension_count: int | None = Field(default=None, ge=0, le=255)
    blocks_present: int | None = Field(default=None, ge=0, le=256)
    extension_tags: list[str] = Field(default_factory=list, max_length=255)
    checksum_ok: list[bool] = Field(default_factory=list, max_length=256)
    truncated: bool | None = None
    problems: list[str] = Field(default_factory=list, max_length=16)
    edid_hex: str | None = Field(default=None, max_length=8192)  # the raw EDID, for a later re-reading
    missing: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=500)]] = Field(
        default_factory=dict, max_length=64)


class DisplaysMeasurement(Measurement):
    """The displays attached to this machine, each with its kind, and counts rules can read.

    ``projection_count`` = projectors + interactive displays: the "collective
    projection system" of the socle numérique. ``external_count`` leaves out
    internal panels. A display behind an AV switcher or scaler shows the
    switcher's EDID and counts as ``unknown``.
    """

    kind: Literal["displays"] = "displays"
    source: str = Field(max_length=60)
    displays: list[DisplayReading] = Field(default_factory=list, max_length=32)
    display_count: int = Field(default=0, ge=0)
    external_count: int = Field(default=0, ge=0)
    projector_count: int = Field(default=0, ge=0)
    interactive_display_count: int = Field(default=0, ge=0)
    projection_count: int = Field(default=0, ge=0)
    tv_count: int = Field(default=0, ge=0)
    monitor_count: int = Field(default=0, ge=0)
    internal_panel_count: int = Field(default=0, ge=0)
    unknown_count: int = Field(default=0, ge=0)
    edid_problem_count: int = Field(default=0, ge=0)  # displays whose EDID is broken or unreadable


AnyMeasurement = Annotated[
    DeviceMeasurement | LatencyMeasurement | LanMeasurement | ServicesMeasurement
    | FilteringMeasurement | WifiMeasurement | WifiSurveyMeasurement | BandwidthMeasurement
    | DisplaysMeasurement,
    Field(discriminator="kind"),
]


class ProbeResult(_Sent):
    """One probe's outcome inside a report."""

    probe: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    status: ProbeStatus
    reason: str | None = Field(default=None, max_length=2000)
    duration_s: float = Field(ge=0)
    measurement: AnyMeasurement | None = None

    @field_validator("duration_s")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("duration_s must be finite")
        return v


class DeviceIdentity(_Sent):
    """Who sent a report: the agent's own instance ID; hardware IDs only as hints."""

    instance_id: uuid.UUID
    hostname: Name
    hardware_hint: str | None = Field(default=None, max_length=200)


class SpoolHealth(_Sent):
    """The agent's delivery spool when a report was made: what waits, what was lost and why.

    Counts are totals since the spool was created, so the collector sees a loss even
    when the reports that were dropped never arrive.
    """

    depth: int = Field(default=0, ge=0)  # reports waiting to be sent, this one excluded
    dropped_total: int = Field(default=0, ge=0)  # dropped, oldest first, to stay within size or age
    refused_total: int = Field(default=0, ge=0)  # refused by the collector as invalid (kept aside)
    unkept_total: int = Field(default=0, ge=0)  # measured, but neither kept (a full disk) nor delivered


class Report(_Sent):
    """One run of the agent: every probe's result, taken together."""

    report_id: uuid.UUID
    schema_version: Literal[1] = SCHEMA_VERSION
    agent_version: Annotated[str, Field(min_length=1, max_length=40)]
    device: DeviceIdentity
    school_uai: Uai
    room: Name
    taken_at: AwareDatetime
    results: list[ProbeResult] = Field(max_length=64)
    spool: SpoolHealth = Field(default_factory=SpoolHealth)

    @field_validator("taken_at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        # A clock years off is a broken clock: refuse rather than file the report in 0001.
        if not 2000 <= v.year <= 2100:
            raise ValueError("taken_at must be between the years 2000 and 2100")
        return v.astimezone(UTC)

    def result(self, probe: str) -> ProbeResult | None:
        """The result of one probe, if it ran."""
        return next((r for r in self.results if r.probe == probe), None)


# What a machine is for, said at enrolment (docs/requirements.md, "Equipment"): a teacher's machine in a
# class (the evidence for E1/E2 in its room), a pupil's, one of a mobile class (counted for E3), shared.
DeviceRole = Literal["teacher", "pupil", "mobile", "shared"]
DEVICE_ROLES: tuple[str, ...] = ("teacher", "pupil", "mobile", "shared")


class EnrollRequest(_Sent):
    """What an agent sends to trade an enrolment code for its credential.

    Without ``room`` the collector gives the room its code's hostname pattern finds in
    ``device.hostname``. ``move`` confirms moving a machine enrolled to another school
    (without it such an enrolment is refused, 409, and the code is not spent).
    """

    code: Annotated[str, Field(min_length=4, max_length=64)]
    room: Name | None = None
    device: DeviceIdentity
    agent_version: Annotated[str, Field(min_length=1, max_length=40)]
    move: bool = False
    role: DeviceRole | None = None  # unsaid: the machine counts for no equipment rule until it is set


class EnrollResponse(_Wire):
    """The per-device credential; shown once, kept by the agent."""

    agent_id: uuid.UUID
    token: str
    school_uai: Uai
    school_name: str
    room: str
    role: DeviceRole | None = None


class AgentSchool(_Wire):
    """The school an agent is enrolled to, with the facts its rules scale with (pupils, staff):
    what ``socle-agent check`` needs to judge on the spot as the collector judges."""

    school_uai: Uai
    school_name: str
    pupils: Count | None = None
    staff: Count | None = None


class IngestResponse(_Wire):
    """The collector's answer to one report: stored now, or already had."""

    report_id: uuid.UUID
    status: Literal["stored", "duplicate"]


class ReportBatch(_Wire):
    """Several spooled reports in one request; each item is validated on its own.

    Items are raw objects here so that one malformed report is refused alone, with
    its field path, while the others are stored.
    """

    reports: list[dict[str, Any]] = Field(min_length=1, max_length=500)


class BatchItemResult(_Wire):
    """The collector's answer to one item of a batch, by position."""

    index: int = Field(ge=0)
    report_id: uuid.UUID | None = None  # None when the item has no readable id
    status: Literal["stored", "duplicate", "refused"]
    error: str | None = None  # why it was refused: field path and reason


class BatchIngestResponse(_Wire):
    """One result per item, in the order sent."""

    results: list[BatchItemResult]


class ReenrollRequest(_Sent):
    """What a machine told it holds a cloned identity sends, with its new instance ID, to get its own."""

    device: DeviceIdentity
    agent_version: Annotated[str, Field(min_length=1, max_length=40)]


class RotateResponse(_Wire):
    """A new credential for the calling agent; the old one stops working once the new one is used."""

    agent_id: uuid.UUID
    token: str


class RuleOutcomeStatus(StrEnum):
    """A rule's verdict: met, not met, or nothing to judge it on."""

    passed = "pass"
    failed = "fail"
    no_data = "no_data"


class Level(StrEnum):
    """Where a school stands."""

    not_ready = "not_ready"
    base = "base"
    target = "target"
    no_data = "no_data"


class Evidence(_Wire):
    """What a rule was judged on, for one subject (the school, a room or a device)."""

    subject: str
    outcome: RuleOutcomeStatus
    value: float | None = None
    samples: int = 0
    threshold: float | None = None
    first_at: datetime | None = None
    last_at: datetime | None = None
    note: str | None = None


class RuleOutcome(_Wire):
    """A rule's outcome with the evidence behind it."""

    rule_id: str
    title: str
    source: str
    proposed: bool
    level: str
    scope: str
    metric: str
    comparison: str
    threshold: float
    aggregate: str
    window_days: int
    outcome: RuleOutcomeStatus
    required: bool
    evidence: list[Evidence] = Field(default_factory=list)
    share_min_pct: float | None = None  # for a share: the percentage of samples that must meet it
    hours: str | None = None  # only samples taken in these weekly hours counted (config/hours.py)
    timezone: str | None = None  # the hours' time zone
    note: str | None = None


class ClassesSource(_Wire):
    """Where a school's class count came from: an open-data file (and its school year), or an admin."""

    origin: Literal["import", "admin"]
    file: SourceText | None = None  # the imported file's name
    year: int | None = Field(default=None, ge=1900, le=2100)  # the file's rentrée scolaire
    set_at: AwareDatetime


class SchoolPublic(_Wire):
    """A school as the API shows it; each text field meets config/school_fields.py's rules."""

    uai: Uai
    name: SchoolName
    commune: CommuneName
    commune_code: CommuneCode | None = None  # INSEE code (the directory's Code_commune)
    departement: DepartementCode | None = None
    academie: Academie | None = None
    school_type: SchoolType | None = None
    circonscription: Circonscription | None = None  # the primary schools' inspection district
    circonscription_code: UaiCode | None = None  # the circonscription's own UAI, when known
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    email: Email | None = None
    priority_education: Literal["REP", "REP+"] | None = None
    sector: Literal["public", "private"] | None = None
    state: Literal["open", "closing", "opening", "closed"] | None = None
    pupils: Count | None = None
    staff: Count | None = None
    classes: ClassCount | None = None
    classes_source: ClassesSource | None = None


class ComplianceFinding(_Wire):
    """A school SSID seen on air outside teaching hours, grouped by SSID and local day."""

    ssid: str
    local_date: date
    first_seen_at: datetime  # in the school's time zone
    last_seen_at: datetime
    readings: int = Field(ge=1)
    rooms: list[str]
    connected: bool  # a device was connected to it (not only heard in a scan)


class ComplianceOutcome(_Wire):
    """A legal compliance item (loi Abeille, W1), reported apart from the readiness level."""

    rule_id: str
    title: str
    source: str
    outcome: RuleOutcomeStatus
    school_ssids: list[str]
    teaching_hours: str | None
    timezone: str | None
    window_days: int
    readings_outside_hours: int = Field(ge=0)
    findings: list[ComplianceFinding] = Field(default_factory=list)
    note: str | None = None


class DeviceRuleCount(_Wire):
    """One device rule and how the school's devices fare against it."""

    rule_id: str
    title: str
    source: str
    passing: int = Field(ge=0)
    failing: int = Field(ge=0)
    no_data: int = Field(ge=0)
    failing_devices: list[str] = Field(default_factory=list)


class DeviceSummary(_Wire):
    """A school's devices at a glance: how many fail each device rule."""

    devices: int = Field(ge=0)
    devices_failing: int = Field(ge=0)
    rules: list[DeviceRuleCount] = Field(default_factory=list)


class SchoolReadiness(SchoolPublic):
    """A school, its level and every rule's outcome."""

    level: Level
    evaluated_at: datetime
    profile_id: str
    rules: list[RuleOutcome]
    compliance: list[ComplianceOutcome] = Field(default_factory=list)  # legal items, not a level gate
    devices: DeviceSummary = Field(default_factory=lambda: DeviceSummary(devices=0, devices_failing=0))
    # The equipment part (E1-E4), judged apart: ``level`` above is the network's (docs/requirements.md).
    equipment: EquipmentVerdict | None = None


class ProfilePublic(_Wire):
    """The requirement profile the collector judges with."""

    profile: Profile


def utcnow() -> datetime:
    """Now, in UTC, aware."""
    return datetime.now(UTC)


def dump(model: BaseModel) -> dict[str, Any]:
    """A model as JSON-ready data."""
    return model.model_dump(mode="json")
