"""Interoperability: M-Lab's own ndt7 client against the collector, beside the Socle agent.

On one shaped link (10 Mbit/s down, 2 Mbit/s up, tests/netns.py) the real
collector (``socle-collector serve``) runs in the server namespace; in the client
namespace, first ``socle-agent probe bandwidth``, then M-Lab's ``@m-lab/ndt7``
(vendored in tests/interop/ndt7js/) in Debian's headless chromium, through
``tests/interop/mlab_driver.py``. M-Lab's client must finish both subtests
without an error, and its figures must be within 5 % of the agent's: its download
figure is its own (``MeanClientMbps``: bytes received over the whole test), its
upload figure the server's (``TCPInfo.BytesReceived`` over ``ElapsedTime``), as
M-Lab's speed test shows them.

The collector's ndt7 subtests last 10 s, as M-Lab's do; the test takes ~40 s.
The real ``socle-collector serve`` is used on purpose: its uvicorn must not
negotiate permessage-deflate, or Chromium would compress M-Lab's zero-filled
upload messages and the upload figure (bytes on the wire) would collapse.
bench/bandwidth_interop runs the same comparison on more links.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.interop import harness
from tests.interop.mlab_driver import figures
from tests.netns import shaped_link, unavailable

DOWN_MBIT, UP_MBIT = 10, 2
CEILING = 1448 / 1514  # TCP payload per full Ethernet frame, timestamps on
PORT = 4471
log = logging.getLogger(__name__)


def agree(agent: dict[str, Any], mlab: dict[str, Any], rel: float = 0.05) -> bool:
    """Whether M-Lab's download and upload figures are within ``rel`` of the agent's."""
    m, f = agent.get("measurement") or {}, mlab.get("figures") or {}
    pairs = ((m.get("download_mbps"), f.get("download_client_mbps")),
             (m.get("upload_mbps"), f.get("upload_server_mbps")))
    return all(a and b and abs(b - a) <= rel * a for a, b in pairs)


def near_ceiling(agent: dict[str, Any], rel: float = 0.05) -> bool:
    """Whether the agent's figures are within ``rel`` of the link's TCP ceiling both ways."""
    m = agent.get("measurement") or {}
    return all(v and abs(v - rate * CEILING) <= rel * rate * CEILING
               for v, rate in ((m.get("download_mbps"), DOWN_MBIT), (m.get("upload_mbps"), UP_MBIT)))


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the agent's probe result, what M-Lab's client collected), on the same link.

    Up to two more pairs of runs when the first disagree, or the agent's figure is
    off the ceiling: on a shared 2-core machine either client can be starved of CPU
    for a second (bench/bandwidth_interop saw 1 run in 9 at 10/2 with one figure
    7-18 % low; CI once saw the agent's upload 6 % low). A systematic error fails.
    """
    why = unavailable() or harness.browser_unavailable()
    if why:
        pytest.skip(why)
    tmp = tmp_path_factory.mktemp("interop")
    try:
        with shaped_link(DOWN_MBIT, UP_MBIT) as link:
            harness.start_collector(link, tmp / "collector", PORT)
            for attempt in range(3):
                agent = harness.agent_probe(link, PORT, harness.agent_config(tmp), tmp / "state")
                mlab = harness.mlab_client(link, PORT)
                if (agree(agent, mlab) and near_ceiling(agent)) or mlab["errors"]:
                    break
                log.warning("attempt %d: agent %s, M-Lab %s", attempt + 1, agent.get("measurement"),
                            mlab["figures"])
    except harness.HarnessError as exc:
        pytest.fail(str(exc))
    return agent, mlab


@pytest.mark.netns
@pytest.mark.browser
@pytest.mark.slow
def test_mlab_client_completes_download_and_upload_without_error(both: tuple[dict, dict]) -> None:
    _, mlab = both
    assert mlab["errors"] == [], mlab["console"]
    assert mlab["code"] == 0
    assert "HeadlessChrome" in mlab["user_agent"]
    down_client = [r for r in mlab["downloadSeries"] if r[0] == "client"]
    up_server = [r for r in mlab["uploadSeries"] if r[0] == "server"]
    assert len(down_client) >= 20 and len(up_server) >= 20  # 4 a second over ~10 s each
    assert mlab["download"]["LastServerMeasurement"]["Test"] == "download"
    assert mlab["upload"]["LastServerMeasurement"]["Test"] == "upload"
    assert mlab["upload"]["LastServerMeasurement"]["TCPInfo"]["BytesReceived"] > 1_000_000


@pytest.mark.netns
@pytest.mark.browser
@pytest.mark.slow
def test_download_agrees_with_the_agent_within_5_pct(both: tuple[dict, dict]) -> None:
    agent, mlab = both
    assert agent["status"] == "ok", agent.get("reason")
    socle = agent["measurement"]["download_mbps"]
    assert socle == pytest.approx(DOWN_MBIT * CEILING, rel=0.05)
    assert mlab["figures"]["download_client_mbps"] == pytest.approx(socle, rel=0.05)


@pytest.mark.netns
@pytest.mark.browser
@pytest.mark.slow
def test_upload_agrees_with_the_agent_within_5_pct(both: tuple[dict, dict]) -> None:
    agent, mlab = both
    socle = agent["measurement"]["upload_mbps"]
    assert socle == pytest.approx(UP_MBIT * CEILING, rel=0.05)
    # Bytes on the wire: were permessage-deflate negotiated, Chromium would send the
    # client's zero-filled messages ~1000:1 compressed and this would be ~0.2 Mbit/s.
    assert mlab["figures"]["upload_server_mbps"] == pytest.approx(socle, rel=0.05)


def test_figures_are_read_as_mlab_reads_them() -> None:
    result = {
        "download": {
            "LastClientMeasurement": {"ElapsedTime": 10.0, "NumBytes": 12_000_000, "MeanClientMbps": 9.6},
            "LastServerMeasurement": {"AppInfo": {"ElapsedTime": 10_000_000, "NumBytes": 13_000_000}},
        },
        "upload": {
            "LastClientMeasurement": {"ElapsedTime": 10.0, "NumBytes": 2_600_000, "MeanClientMbps": 2.08},
            "LastServerMeasurement": {"AppInfo": {"ElapsedTime": 10_000_000, "NumBytes": 2_300_000},
                                      "TCPInfo": {"ElapsedTime": 10_000_000, "BytesReceived": 2_400_000}},
        },
    }
    assert figures(result) == {"download_client_mbps": 9.6, "download_server_mbps": 10.4,
                               "upload_server_mbps": 1.92, "upload_client_mbps": 2.08}
    del result["upload"]["LastServerMeasurement"]["TCPInfo"]
    assert figures(result)["upload_server_mbps"] == 1.84
    assert figures({})["download_client_mbps"] is None


def test_agreement_is_5_pct_of_the_agent_figure_both_ways() -> None:
    agent = {"measurement": {"download_mbps": 9.56, "upload_mbps": 1.91}}
    mlab = {"figures": {"download_client_mbps": 9.10, "upload_server_mbps": 2.00}}  # -4.8 %, +4.7 %
    assert agree(agent, mlab)
    mlab["figures"]["upload_server_mbps"] = 2.01  # +5.2 %
    assert not agree(agent, mlab)
    assert not agree({"measurement": None}, mlab)  # no figure from the agent: no agreement
