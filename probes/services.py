"""The school's online services (F4): ÉduConnect, the ministry's, the school's ENT.

Each service is fetched once, step by step (DNS, TCP, TLS with the certificate
checked, HTTP), and a captive-portal check tells whether the network answers
in the Internet's place.
"""

from __future__ import annotations

from config.agent_settings import ServiceTarget
from config.wire import ProbeStatus, ServiceCheck, ServicesMeasurement
from probes.base import Outcome, ProbeContext, ProbeSpec
from probes.webcheck import WebResult, fetch


def targets(ctx: ProbeContext) -> list[ServiceTarget]:
    """The configured services, with the school's ENT when its URL is set."""
    cfg = ctx.settings.probes.services
    out = list(cfg.services)
    if cfg.ent_url:
        out.append(ServiceTarget(name="ENT", url=cfg.ent_url))
    return out


def is_reachable(result: WebResult) -> bool:
    """A service answers: TLS (when HTTPS) verified and an HTTP answer that is not an error.

    A redirect (to a login page) and 401 count as answers; 4xx others and 5xx do not.
    """
    status = result.http_status
    return status is not None and (status < 400 or status == 401)


def to_check(name: str, result: WebResult) -> ServiceCheck:
    """A fetch as the wire's per-service result."""
    reachable = is_reachable(result)
    error = result.error
    if result.http_status is not None and not reachable:
        error = f"http: status {result.http_status}"
    return ServiceCheck(
        name=name, url=result.url, address=result.address, dns_ms=result.dns_ms,
        tcp_ms=result.tcp_ms, tls_ms=result.tls_ms, http_status=result.http_status,
        total_ms=result.total_ms, cert_valid=result.cert_valid,
        cert_not_after=result.cert_not_after, reachable=reachable,
        failed_step=None if reachable else (result.failed_step or "http"),
        error=None if reachable else (error or "no answer")[:500],
    )


def captive_portal(result: WebResult, expect: str) -> tuple[bool | None, str | None]:
    """Whether a portal stands in the Internet's way, judged from the check URL's answer.

    The check URL answers 200 with a known text; a portal answers a redirect or
    its own page instead. No answer at all says nothing either way.
    """
    if result.http_status is None:
        return None, f"captive-portal check got no answer: {result.error}"
    if result.http_status == 200 and expect in result.body:
        return False, None
    return True, None


def run(ctx: ProbeContext) -> Outcome:
    """Fetch every configured service once and check for a captive portal."""
    cfg = ctx.settings.probes.services
    services = targets(ctx)
    if not services:
        return Outcome.unavailable("no service configured to check")
    checks = []
    for svc in services:
        result = fetch(svc.url, dns_server=cfg.dns_server, ca_file=cfg.ca_file,
                       timeout=cfg.timeout_s, monotonic=ctx.monotonic)
        checks.append(to_check(svc.name, result))
    missing: dict[str, str] = {}
    portal = None
    if cfg.captive_url:
        res = fetch(cfg.captive_url, dns_server=cfg.dns_server, ca_file=cfg.ca_file,
                    timeout=cfg.timeout_s, monotonic=ctx.monotonic)
        portal, why = captive_portal(res, cfg.captive_expect)
        if why:
            missing["captive_portal"] = why
    else:
        missing["captive_portal"] = "no captive-portal check URL configured"
    reached = [c for c in checks if c.reachable]
    times = [c.total_ms for c in reached if c.total_ms is not None]
    if not times:
        missing["slowest_total_ms"] = "no service answered"
    m = ServicesMeasurement(
        services=checks,
        services_total=len(checks),
        services_reachable=len(reached),
        all_reachable=len(reached) == len(checks),
        slowest_total_ms=max(times) if times else None,
        captive_portal=portal,
        missing=missing,
    )
    failed = [f"{c.name}: {c.error}" for c in checks if not c.reachable]
    return Outcome(ProbeStatus.ok, m, "; ".join(failed) or None)


SPEC = ProbeSpec(
    name="services",
    run=run,
    summary="ÉduConnect, the ministry's services and the ENT: DNS, TCP, TLS, HTTP (F4)",
)
