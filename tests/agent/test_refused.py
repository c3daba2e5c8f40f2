"""One report the collector can never take does not block the spool: it is set aside with its reason,
counted (sent with every later report, shown by status), and the others flow."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from agent.client import CollectorError
from agent.sender import Sender
from agent.spool import Spool
from config.agent_settings import SpoolSettings
from config.wire import BatchIngestResponse, BatchItemResult


class Collector:
    """A collector that cannot take one report: any request carrying it is refused whole."""

    def __init__(self, poison: str, status: int) -> None:
        self.poison, self.status = poison, status
        self.stored: list[str] = []

    def send_batch(self, bodies: list[str]) -> BatchIngestResponse:
        ids = [json.loads(b)["report_id"] for b in bodies]
        if self.poison in ids:
            raise CollectorError(f"refused: HTTP {self.status}", self.status)
        self.stored += ids
        return BatchIngestResponse(results=[BatchItemResult(index=i, report_id=uuid.UUID(r), status="stored")
                                            for i, r in enumerate(ids)])


def _fill(spool: Spool, n: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(n)]
    for rid in ids:
        spool.put(rid, json.dumps({"report_id": rid}))
    return ids


def test_a_report_refused_whole_is_set_aside_and_the_rest_is_sent(tmp_path: Path) -> None:
    for status in (413, 422, 400):
        with Spool(tmp_path / f"s{status}.db") as spool:
            ids = _fill(spool, 7)
            collector = Collector(poison=ids[3], status=status)
            sender = Sender(spool, collector, SpoolSettings(batch_size=4),  # type: ignore[arg-type]
                            sleep=lambda s: None)
            result = sender.flush()
            assert sorted(collector.stored) == sorted(ids[:3] + ids[4:]), status
            assert [rid for rid, _ in result.refused] == [ids[3]]
            assert result.error is None and result.remaining == 0
            stats = spool.stats()
            assert stats.refused_total == 1 and stats.depth == 0
            assert spool.refused()[0][0] == ids[3] and str(status) in spool.refused()[0][1]
            assert spool.stats().health().refused_total == 1  # sent with the next report


def test_a_refused_credential_or_a_collector_down_sets_nothing_aside(tmp_path: Path) -> None:
    for status in (401, 503):
        with Spool(tmp_path / f"s{status}.db") as spool:
            ids = _fill(spool, 3)
            collector: Any = Collector(poison=ids[0], status=status)
            sender = Sender(spool, collector, SpoolSettings(batch_size=4), sleep=lambda s: None)
            result = sender.flush(attempts=1)
            assert result.refused == [] and result.remaining == 3 and result.status == status
