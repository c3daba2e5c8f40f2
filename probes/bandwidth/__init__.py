"""Internet bandwidth by ndt7 (M-Lab's protocol) against the collector or any ndt7 server.

The probe measures, in order: idle latency (TCP handshakes to the server), loss
(ICMP echoes when privileged), the download, then the upload. Each transfer's
figure is the steady median of the receiver's count (see ``ndt7`` and
``analysis``); a transfer stops early once stable, and always at the maximum
duration or its share of the per-test byte cap. A monthly byte budget is kept in
a small file; when it is spent the probe does not run.
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass

from config.wire import BandwidthMeasurement, ProbeStatus
from probes.bandwidth import analysis, local, ndt7
from probes.base import Outcome, ProbeContext, ProbeSpec
from probes.latency import jitter

log = logging.getLogger(__name__)

MB = 1_000_000
DOWNLOAD_SHARE = 0.75  # of the per-test byte cap; the upload gets what is left
CPU_SATURATED = 0.9  # process CPU time per wall-clock second (the Python client is one busy thread)
SYSTEM_SATURATED_PCT = 95.0


@dataclass(frozen=True)
class Direction:
    """One subtest's outcome: the transfer, or why there is none."""

    transfer: ndt7.Transfer | None
    error: str | None = None


def _rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _run_direction(fn: ndt7.TransferFunction, url: str, limits: ndt7.Limits,
                   ctx: ProbeContext) -> Direction:
    try:
        return Direction(fn(url, limits, ctx.monotonic))
    except Exception as exc:  # noqa: BLE001 - any transport failure is this subtest's result
        log.info("ndt7 %s failed: %s", url, exc)
        return Direction(None, f"{type(exc).__name__}: {exc}"[:300])


def build_measurement(server: str, idle: list[float], down: Direction, up: Direction,
                      loss: tuple[float | None, str | None, str | None]) -> BandwidthMeasurement:
    """The measurement from what the subtests saw (agent-side context is filled in by ``run``)."""
    missing: dict[str, str] = {}
    m = BandwidthMeasurement(server=server, idle_latency_samples=len(idle))
    if idle:
        m.idle_latency_min_ms = round(min(idle), 3)
        m.idle_latency_median_ms = round(statistics.median(idle), 3)
        m.idle_jitter_ms = _rounded(jitter(idle))
    else:
        missing["idle_latency_median_ms"] = "no TCP handshake to the server succeeded"
    for name, d in (("download", down), ("upload", up)):
        t = d.transfer
        if t is None:
            missing[f"{name}_mbps"] = d.error or "not run"
            continue
        median, p90, _ = analysis.summarise(t.samples)
        if median is None:
            missing[f"{name}_mbps"] = f"no steady interval in {t.duration_s:.1f} s ({t.stop})"
        setattr(m, f"{name}_mbps", _rounded(median))
        setattr(m, f"{name}_p90_mbps", _rounded(p90))
        setattr(m, f"{name}_s", round(t.duration_s, 3))
        setattr(m, f"{name}_stop", t.stop)
        loaded = ndt7.median_or_none(t.loaded_rtt_ms)
        setattr(m, f"loaded_latency_{name}_ms", _rounded(loaded))
        if loaded is None:
            missing[f"loaded_latency_{name}_ms"] = "no handshake completed during the transfer"
        m.bytes_used += t.wire_bytes or t.app_bytes
    if up.transfer is not None:
        m.upload_source = up.transfer.source or None
        if not up.transfer.source:
            missing["upload_mbps"] = "the server sent no measurement of what it received"
            m.upload_mbps = m.upload_p90_mbps = None
    loss_pct, method, why = loss
    if loss_pct is None:
        sent = sum(d.transfer.sent_bytes or 0 for d in (down, up) if d.transfer)
        retr = sum(d.transfer.retrans_bytes or 0 for d in (down, up) if d.transfer)
        if sent > 0:
            loss_pct, method = round(100.0 * retr / sent, 3), "tcp_retrans"
        else:
            missing["loss_pct"] = why or "no TCP_INFO on either side"
    m.loss_pct, m.loss_method = loss_pct, method  # type: ignore[assignment]
    m.missing = missing
    return m


def _loss(ctx: ProbeContext, host: str, count: int) -> tuple[float | None, str | None, str | None]:
    if not ctx.privileged:
        return None, None, "no raw-socket rights for ICMP; TCP retransmissions unavailable"
    try:
        return local.icmp_loss_pct(host, count), "icmp", None
    except Exception as exc:  # noqa: BLE001 - fall back to TCP retransmissions
        log.info("ICMP loss probe failed: %s", exc)
        return None, None, f"ICMP probe failed ({type(exc).__name__})"


def run(ctx: ProbeContext) -> Outcome:
    """Idle latency, loss, download and upload against the ndt7 server."""
    cfg = ctx.settings.probes.bandwidth
    server = ctx.options.get("server") or cfg.server or ctx.collector_url
    if not server:
        return Outcome.unavailable("no ndt7 server: the agent is not enrolled and none is configured")
    try:
        down_url, up_url = ndt7.ndt7_urls(server, {"client_name": "socle-agent"})
    except ValueError as exc:
        return Outcome(ProbeStatus.error, None, str(exc))

    usage_file = cfg.usage_file or local.default_usage_file()
    month = local.month_key(ctx.clock())
    used = local.read_usage(usage_file, month)
    cap = int(cfg.max_mb_per_test * MB)
    if cfg.monthly_budget_mb is not None:
        left = int(cfg.monthly_budget_mb * MB) - used
        if left <= cap * 0.1:
            return Outcome.unavailable(
                f"monthly bandwidth budget spent: {used / MB:.0f} of {cfg.monthly_budget_mb:g} MB")
        cap = min(cap, left)

    idle = ndt7.idle_rtts(down_url, cfg.idle_samples, 0.05, ctx.sleep)
    if not idle:
        return Outcome(ProbeStatus.error, None, f"ndt7 server unreachable at {down_url}")
    host, _ = ndt7.host_port(down_url)
    loss = _loss(ctx, host, cfg.loss_probes)

    ps = ctx.ps()
    ps.cpu_percent(interval=None)
    limits = ndt7.Limits(cfg.max_duration_s, cfg.min_duration_s, cfg.stable_tolerance_pct,
                         int(cap * DOWNLOAD_SHARE), cfg.open_timeout_s)
    down = _run_direction(ndt7.download, down_url, limits, ctx)
    spent = (down.transfer.wire_bytes or down.transfer.app_bytes) if down.transfer else 0
    limits = ndt7.Limits(cfg.max_duration_s, cfg.min_duration_s, cfg.stable_tolerance_pct,
                         max(cap - spent, MB), cfg.open_timeout_s)
    up = _run_direction(ndt7.upload, up_url, limits, ctx)
    system_pct = ps.cpu_percent(interval=None)

    m = build_measurement(server, idle, down, up, loss)
    transfers = [d.transfer for d in (down, up) if d.transfer is not None]
    busy = max((t.cpu_s / t.duration_s for t in transfers if t.duration_s > 0), default=0.0)
    m.client_cpu_pct = round(100.0 * busy, 1)
    m.client_limited = busy >= CPU_SATURATED or system_pct >= SYSTEM_SATURATED_PCT
    m.interface, speed = local.interface_for(next((t.local_addr for t in transfers), None), ps)
    m.link_speed_mbps = speed
    m.wireless = local.is_wireless(m.interface, ctx.os_name, ctx.fs_root)
    best = max((v for v in (m.download_mbps, m.upload_mbps) if v is not None), default=None)
    m.limited_by = local.limited_by(m.client_limited, m.wireless, speed, best)
    if m.interface is None:
        m.missing["interface"] = "no local interface holds the test's source address"
    if cfg.monthly_budget_mb is not None:
        m.monthly_used_mb = round(local.add_usage(usage_file, month, m.bytes_used) / MB, 3)
        m.monthly_budget_mb = cfg.monthly_budget_mb

    if m.download_mbps is None and m.upload_mbps is None:
        return Outcome(ProbeStatus.error, m, "; ".join(f"{k}: {v}" for k, v in m.missing.items()
                                                       if k.endswith("_mbps")))
    if m.download_mbps is None or m.upload_mbps is None or m.limited_by:
        why = m.missing.get("download_mbps") or m.missing.get("upload_mbps") or f"limited by {m.limited_by}"
        return Outcome(ProbeStatus.degraded, m, why)
    return Outcome.ok(m)


SPEC = ProbeSpec(
    name="bandwidth",
    run=run,
    summary="Download and upload throughput, latency under load and loss (ndt7)",
    default_timeout_s=60.0,
    needs=("collector",),
)
