"""Web filtering (F1): what must be blocked is blocked, what must pass passes.

A URL counts as blocked when the resolver refuses it or answers a sinkhole
address, the connection is refused or reset, TLS is intercepted with a
certificate the device does not trust, or the answer is 403, 451 or a page
that carries one of the filter's block-page markers. A timeout is neither: it
is reported as an error.
"""

from __future__ import annotations

from config.wire import FilterCheck, FilteringMeasurement, ProbeStatus
from probes.base import Outcome, ProbeContext, ProbeSpec
from probes.webcheck import WebResult, fetch

_BLOCK_STATUSES = (403, 451)


def verdict(result: WebResult, markers: list[str]) -> tuple[str, str]:
    """``blocked``, ``allowed`` or ``error`` for one fetch, and how it was told."""
    if result.timed_out:
        return "error", result.error or "timed out"
    if result.failed_step in ("dns", "tcp", "tls"):
        return "blocked", result.error or result.failed_step
    if result.http_status is None:
        return "error", result.error or "no answer"
    if result.http_status in _BLOCK_STATUSES:
        return "blocked", f"http {result.http_status}"
    hit = next((m for m in markers if m and m in result.body), None)
    if hit:
        return "blocked", f"http {result.http_status}: block page ({hit!r})"
    return "allowed", f"http {result.http_status}"


def run(ctx: ProbeContext) -> Outcome:
    """Fetch every must-block and must-allow URL once and judge each."""
    cfg = ctx.settings.probes.filtering
    if not cfg.must_block:
        return Outcome.unavailable("no URL configured that the filter must block")
    checks = []
    for expect, urls in (("blocked", cfg.must_block), ("allowed", cfg.must_allow)):
        for url in urls:
            result = fetch(url, dns_server=cfg.dns_server, ca_file=cfg.ca_file,
                           timeout=cfg.timeout_s, monotonic=ctx.monotonic)
            got, how = verdict(result, cfg.block_page_markers)
            checks.append(FilterCheck(url=url, expect=expect, verdict=got,
                                      how=how[:300]))
    block = [c for c in checks if c.expect == "blocked"]
    allow = [c for c in checks if c.expect == "allowed"]
    errors = [c for c in checks if c.verdict == "error"]
    blocked = sum(1 for c in block if c.verdict == "blocked")
    missing: dict[str, str] = {}
    in_place: bool | None = blocked == len(block)
    if not in_place and not any(c.verdict == "allowed" for c in block):
        in_place = None
        missing["in_place"] = "a URL that must be blocked could not be tested (timeout)"
    if not allow:
        missing["over_blocking"] = "no URL configured that must pass"
    m = FilteringMeasurement(
        checks=checks,
        must_block_total=len(block),
        must_block_blocked=blocked,
        must_allow_total=len(allow),
        must_allow_allowed=sum(1 for c in allow if c.verdict == "allowed"),
        in_place=in_place,
        over_blocking=any(c.verdict == "blocked" for c in allow) if allow else None,
        missing=missing,
    )
    if errors:
        return Outcome(ProbeStatus.degraded, m,
                       "; ".join(f"{c.url}: {c.how}" for c in errors))
    return Outcome.ok(m)


SPEC = ProbeSpec(name="filtering", run=run,
                 summary="Web filtering: must-block URLs blocked, must-allow URLs reachable (F1)")
