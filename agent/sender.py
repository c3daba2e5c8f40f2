"""Sending the spool: batches, exponential backoff with full jitter, ``Retry-After``.

A report leaves the spool only once the collector has answered for it (stored,
duplicate or refused), so a crash at any point means a resend, and the
collector's idempotent ingest (by ``report_id``) turns that into exactly once.
The backoff state (consecutive failures, earliest next attempt) lives in the
spool, so a restart does not hammer a collector that is down or asked to wait.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from agent.client import CollectorClient, CollectorError
from agent.spool import Spool, SpoolItem
from config.agent_settings import SpoolSettings
from config.wire import Report

log = logging.getLogger("socle.agent.sender")

# Answers to a whole request that say its content cannot be stored (not the credential, not the
# collector's health): too large, unreadable, invalid. The batch is split until the one report that
# causes it is alone, and that report is set aside.
REFUSES_CONTENT = frozenset({400, 413, 422})


def full_jitter(failures: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """The wait after ``failures`` consecutive failures: uniform in [0, min(cap, base·2^(failures-1))]."""
    ceiling = min(cap_s, base_s * 2 ** max(0, min(failures - 1, 62)))
    return rng.uniform(0.0, ceiling)


@dataclass
class FlushResult:
    """What one flush did."""

    stored: int = 0
    duplicate: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)  # (report_id, why)
    attempts: int = 0
    remaining: int = 0
    error: str | None = None  # the last failure, when the spool is not empty at the end
    status: int | None = None  # its HTTP status (None: no answer)
    retry_in_s: float | None = None  # when the next automatic attempt may happen

    @property
    def sent(self) -> int:
        """Reports the collector now has (stored now or already)."""
        return self.stored + self.duplicate

    @property
    def cloned(self) -> bool:
        """The collector said this identity is in use by another machine."""
        return self.status == 409

    @property
    def unauthorised(self) -> bool:
        """The credential was refused (revoked, or replaced by a rotation elsewhere)."""
        return self.status == 401


class Sender:
    """Offers the spool to the collector, oldest first, in batches."""

    def __init__(self, spool: Spool, client: CollectorClient, settings: SpoolSettings, *,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None) -> None:
        self.spool = spool
        self.client = client
        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self._batch_items = settings.batch_size
        self._batch_api = True  # falls back to one report per request on a collector without it

    def due(self) -> bool:
        """Whether the backoff (or a ``Retry-After``) allows an automatic attempt now."""
        nb = self.spool.stats().not_before
        return nb is None or self.clock() >= nb

    def flush(self, attempts: int | None = None, max_wait_s: float = 60.0) -> FlushResult:
        """Send until the spool is empty, ``attempts`` failures in a row, or a wait above ``max_wait_s``."""
        attempts = attempts or self.settings.attempts_per_flush
        result = FlushResult()
        self.spool.prune()
        failures_here = 0
        while True:
            items = self.spool.batch(self._batch_items, self.settings.batch_max_kb * 1024)
            if not items:
                break
            result.attempts += 1
            try:
                self._send(items, result)
            except CollectorError as exc:
                if exc.status in REFUSES_CONTENT:
                    if len(items) > 1:  # one report in the batch may be the cause: send fewer at once
                        self._batch_items = max(1, len(items) // 2)
                    else:  # this one report can never be stored: set aside, and the rest flows
                        self.spool.refuse(items[0].report_id, str(exc))
                        result.refused.append((items[0].report_id, str(exc)))
                        self._batch_items = self.settings.batch_size
                    continue
                if exc.status in (404, 405) and self._batch_api:
                    log.info("the collector has no batch endpoint; sending one report per request")
                    self._batch_api = False
                    continue
                result.error, result.status = str(exc), exc.status
                if not exc.retryable:
                    self.spool.set_error(str(exc))
                    break
                delay = self._delay(exc)
                failures_here += 1
                result.retry_in_s = delay
                self.spool.record_failure(str(exc), self.clock() + delay)
                log.info("send failed (%s); next attempt in %.1f s", exc, delay)
                if failures_here >= attempts or delay > max_wait_s:
                    break
                self.sleep(delay)
                continue
            failures_here = 0
            result.error = result.status = result.retry_in_s = None
            self.spool.record_success()
        if result.error is None:
            self.spool.set_error(None)
        result.remaining = self.spool.stats().depth
        return result

    def _delay(self, exc: CollectorError) -> float:
        if exc.retry_after is not None:
            return min(exc.retry_after, self.settings.retry_after_cap_s)
        failures = self.spool.stats().failures + 1
        return full_jitter(failures, self.settings.backoff_base_s, self.settings.backoff_cap_s, self.rng)

    def _send(self, items: list[SpoolItem], result: FlushResult) -> None:
        if not self._batch_api:
            self._send_one(items[0], result)
            return
        answer = self.client.send_batch([i.body for i in items])
        acked: list[str] = []
        for item_result in answer.results:
            if not 0 <= item_result.index < len(items):
                continue
            item = items[item_result.index]
            if item_result.report_id is not None and str(item_result.report_id) != item.report_id:
                log.warning("collector answered for %s at the place of %s; kept", item_result.report_id,
                            item.report_id)
                continue
            if item_result.status == "refused":
                why = item_result.error or "refused"
                self.spool.refuse(item.report_id, why)
                result.refused.append((item.report_id, why))
                continue
            acked.append(item.report_id)
            if item_result.status == "stored":
                result.stored += 1
            else:
                result.duplicate += 1
        self.spool.ack(acked)

    def _send_one(self, item: SpoolItem, result: FlushResult) -> None:
        try:
            report = Report.model_validate_json(item.body)
            answer = self.client.send_report(report)
        except ValueError as exc:  # not a valid report any more (an older agent's format)
            self.spool.refuse(item.report_id, f"invalid report: {exc}")
            result.refused.append((item.report_id, str(exc)))
            return
        except CollectorError as exc:
            if exc.status in REFUSES_CONTENT | {403}:  # 403: a report for another school
                self.spool.refuse(item.report_id, str(exc))
                result.refused.append((item.report_id, str(exc)))
                return
            raise
        self.spool.ack([item.report_id])
        if answer.status == "stored":
            result.stored += 1
        else:
            result.duplicate += 1
