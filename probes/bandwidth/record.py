"""A bandwidth test's raw series, kept in a JSON file so a figure can be explained afterwards.

Not part of the report (the wire contract carries figures only): written when
the probe runs with the ``record`` option (``socle-agent probe bandwidth
--record FILE``, the benches). Per direction: the series the figure comes from
(``samples``: the receiver's cumulative count over time, the server's on upload,
in the server's time), the server's every measurement (``server``, see
:func:`probes.bandwidth.ndt7.server_row`), on upload the client's own count at
each of them (``sent``: client time, bytes handed to the WebSocket, bytes its
kernel saw acknowledged), and the windows the analysis kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from probes.bandwidth import analysis, ndt7


def transfer_record(t: ndt7.Transfer) -> dict[str, Any]:
    """One transfer's series and what the analysis made of them."""
    median, p90, n = analysis.summarise(t.samples)
    return {
        "test": t.test, "source": t.source, "stop": t.stop, "duration_s": t.duration_s,
        "app_bytes": t.app_bytes, "wire_bytes": t.wire_bytes, "sent_bytes": t.sent_bytes,
        "retrans_bytes": t.retrans_bytes, "cpu_s": t.cpu_s, "wait_s": t.wait_s,
        "samples": t.samples, "fine": t.fine, "server": t.server, "sent": t.sent,
        "windows_mbps": analysis.window_rates(t.samples), "median_mbps": median, "p90_mbps": p90,
        "windows": n,
    }


def write(path: str | Path, directions: dict[str, ndt7.Transfer | None], result: dict[str, Any]) -> None:
    """Write the transfers' records and the probe's result (status, reason, measurement) to ``path``."""
    body = {"result": result,
            **{name: transfer_record(t) if t is not None else None for name, t in directions.items()}}
    Path(path).write_text(json.dumps(body, indent=1), encoding="utf-8")
