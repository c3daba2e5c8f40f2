"""The bandwidth probe on a tbf-shaped link between two namespaces (10 Mbit/s down, 1 Mbit/s up)."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import pytest

from probes.bandwidth import analysis
from tests.conftest import ROOT
from tests.netns import shaped_link, unavailable

ROOT = ROOT
CEILING = 1448 / 1514  # TCP payload per full Ethernet frame, timestamps on
PORT = 4455

pytestmark = [pytest.mark.netns, pytest.mark.slow]


def _probe(tmp: Path, down: float, up: float, queue_ms: float, max_s: float,
           record: Path | None = None, hogs: int = 0) -> dict:
    """One ``socle-agent probe bandwidth --json`` on a shaped link; its parsed result.

    With ``record``, the probe's raw series are written there (``--record``).
    With ``hogs``, the probe runs pinned to CPU 0 beside that many busy loops
    pinned there too: a client starved of its CPU.
    """
    why = unavailable()
    if why:
        pytest.skip(why)
    tmp.mkdir(parents=True, exist_ok=True)
    cfg = tmp / "agent.toml"
    cfg.write_text(f'[probes.bandwidth]\nmin_duration_s = 3.0\nmax_duration_s = {max_s}\n'
                   f'usage_file = "{tmp / "usage.json"}"\n', encoding="utf-8")
    with shaped_link(down_mbit=down, up_mbit=up, queue_ms=queue_ms) as link:
        link.popen(link.server_ns, [sys.executable, "-m", "uvicorn", "collector.app:create_ndt7_app",
                                    "--factory", "--host", link.server_ip, "--port", str(PORT),
                                    "--log-level", "warning"], cwd=ROOT)
        deadline = time.monotonic() + 20
        while not link.run(link.server_ns, ["ss", "-Hltn", f"sport = :{PORT}"], check=False).stdout.strip():
            if time.monotonic() > deadline:
                pytest.fail("the ndt7 server did not start")
            time.sleep(0.2)
        pin = ["taskset", "-c", "0"] if hogs else []
        for _ in range(hogs):
            link.popen(link.client_ns, [*pin, sys.executable, "-c", "while True: pass"])
        if hogs:
            time.sleep(1.0)  # the busy loops are running, and holding CPU 0, before the probe starts
        out = link.run(link.client_ns, [*pin, sys.executable, "-m", "agent.cli", "probe", "bandwidth",
                                        "--json",
                                        "--server", f"http://{link.server_ip}:{PORT}", "--config", str(cfg),
                                        "--state-dir", str(tmp / "state"),
                                        *(["--record", str(record)] if record else [])],
                        timeout=90, check=False)
    try:
        return json.loads(out.stdout)
    except ValueError:
        pytest.fail(f"socle-agent probe bandwidth printed no JSON: {out.stdout[-500:]} {out.stderr[-1500:]}")


def _steady_probe(tmp: Path, down: float, up: float, queue_ms: float, max_s: float) -> dict:
    """The probe, run again (three times at most) when the shared machine starved it.

    Starvation (another process on the 2 cores) makes a figure low or the result
    degraded by the client's CPU, never high: a run is taken again only when the
    status is not ok or a figure is more than 5 % under the ceiling, so an
    over-reported figure is never retried away.
    """
    for attempt in range(3):
        result = _probe(tmp / f"try{attempt}", down, up, queue_ms, max_s)
        m = result.get("measurement") or {}
        low = any((m.get(k) or 0) < rate * CEILING * 0.95
                  for k, rate in (("download_mbps", down), ("upload_mbps", up)))
        if result.get("status") == "ok" and not low:
            break
    return result


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _steady_probe(tmp_path_factory.mktemp("bw"), 10, 1, 50, 6.0)


def test_download_within_5_pct_of_the_ceiling(measured: dict) -> None:
    m = measured["measurement"]
    assert measured["status"] == "ok", measured.get("reason")
    assert m["download_mbps"] == pytest.approx(10 * CEILING, rel=0.05)


def test_upload_within_5_pct_and_not_over_reported_on_a_slow_uplink(measured: dict) -> None:
    m = measured["measurement"]
    assert m["upload_source"] == "server_tcp_info"
    assert m["upload_mbps"] == pytest.approx(1 * CEILING, rel=0.05)
    # The sender's count would include what still sits in its socket buffer.
    assert m["upload_mbps"] <= 1 * CEILING * 1.02


def test_the_rest_of_the_result(measured: dict) -> None:
    m = measured["measurement"]
    assert m["interface"].startswith("vc")
    assert m["idle_latency_samples"] == 10
    assert m["idle_latency_median_ms"] < 20
    assert m["loaded_latency_download_ms"] is not None
    assert m["loss_method"] == "icmp"  # root in the namespace: scapy echo probes
    assert m["loss_pct"] <= 2.0
    # 6 s at most each way: ≤ 7.5 MB down and 0.75 MB up, plus the close's tail.
    assert 0 < m["bytes_used"] < 10_000_000
    assert m["monthly_used_mb"] == pytest.approx(m["bytes_used"] / 1e6, abs=0.001)
    assert m["client_limited"] is False



def test_upload_not_over_reported_behind_a_deep_queue(tmp_path: Path) -> None:
    # A 200 ms bottleneck queue: early losses hold the server's in-order count back, then it
    # jumps by what waited out of order. The windows that spanned a jump once read 1.05 × the
    # ceiling at 10/2 (bench/bandwidth_interop); the steady span now starts after the jump.
    result = _steady_probe(tmp_path, 10, 2, 200, 5.0)
    m = result["measurement"]
    assert m["upload_source"] == "server_tcp_info"
    assert m["upload_mbps"] <= 2 * CEILING * 1.02
    assert m["upload_mbps"] >= 2 * CEILING * 0.95
    assert m["download_mbps"] == pytest.approx(10 * CEILING, rel=0.05)


def test_an_upload_figure_far_from_its_series_is_never_ok(tmp_path: Path) -> None:
    # 10/2 behind a 50 ms queue: holes from ~2.5 s on in most runs. Once, the windows ended at
    # a count held back by a hole and read 0.877 x the ceiling with status ok (the recorded
    # ENDS_BEFORE_JUMP in tests/probes/test_bandwidth.py). The series is kept: the figure must be the
    # one it gives, and an ok figure must be the link's.
    result = _probe(tmp_path, 10, 2, 50, 6.0, record=tmp_path / "series.json")
    series = json.loads((tmp_path / "series.json").read_text())
    up = series["upload"]
    assert series["result"]["status"] == result["status"]
    assert len(up["samples"]) > 8 and len(up["server"]) == len(up["sent"]) == len(up["samples"]) - 1
    figure = analysis.summarise([tuple(s) for s in up["samples"]])[0]
    assert result["measurement"]["upload_mbps"] == pytest.approx(figure, abs=0.001)
    if result["status"] == "ok":
        assert figure == pytest.approx(2 * CEILING, rel=0.05)
    else:
        assert "held back" in result["reason"] or "limited by" in result["reason"], result["reason"]


def test_icmp_loss_counts_exactly_what_the_link_dropped_and_carries_its_interval(tmp_path: Path) -> None:
    # 1 % of frames dropped each way on arrival (iptables statistic): every echo the probe counts as
    # lost is one of the drops the two namespaces' counters show, even on a machine busy with other
    # work (icmplib's own matching once read 7 % here, where 2 % is the truth).
    why = unavailable(need_iptables=True)
    if why:
        pytest.skip(why)
    code = ("import json; from probes.bandwidth import local, probe; e = local.icmp_echo('10.77.0.1', 500); "
            "none = probe.Direction(None, 'n'); m, _ = probe.build_measurement('x', [1.0], none, none, "
            "probe.Loss(100.0 * (e.sent - e.received) / e.sent, 'icmp', None, e.sent, e.sent - e.received)); "
            "print(json.dumps([e.sent, e.received, m.loss_ci_low_pct, m.loss_ci_high_pct, m.doubtful]))")
    with shaped_link(down_mbit=50, up_mbit=10, loss_pct=1.0) as link:
        out = link.run(link.client_ns, [sys.executable, "-c", code], timeout=60)
        drops = sum(int(line.split()[0]) for ns in (link.server_ns, link.client_ns)
                    for line in link.run(ns, ["iptables", "-t", "raw", "-L", "PREROUTING", "-v", "-x", "-n"]
                                         ).stdout.splitlines() if "DROP" in line)
    sent, received, low, high, doubtful = json.loads(out.stdout)
    assert sent == 500 and sent - received == drops
    lost_pct = 100.0 * drops / sent
    assert low <= lost_pct <= high
    # 500 echoes around 2 % lost: the interval is about 1-3.6 %, too wide to judge a 1 % rule by.
    assert ("loss_pct" in doubtful) is (high - low > 2.0)


@pytest.mark.skipif(shutil.which("taskset") is None, reason="needs taskset (util-linux)")
def test_a_client_starved_of_its_cpu_is_degraded_with_the_figures_that_say_so(tmp_path: Path) -> None:
    # Eight busy loops share CPU 0 with the probe: its threads wait for the CPU most of the time.
    result = _probe(tmp_path, 100, 20, 50, 4.0, hogs=8)
    m = result["measurement"]
    assert result["status"] == "degraded", result.get("reason")
    assert m["client_limited"] is True and m["limited_by"] == "client_cpu"
    assert m["client_wait_pct"] >= 25
    assert "client CPU starved (" in result["reason"] and "waiting for a CPU" in result["reason"]
