"""Services (F4) and filtering (F1) against real DNS and TLS servers in a namespace."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.lan_net import GW_IP, LanNet, lan_net

pytestmark = pytest.mark.netns


@pytest.fixture(scope="module")
def net() -> Iterator[LanNet]:
    with lan_net() as built:
        yield built


def _services(net: LanNet, services: dict[str, str], captive: str, **kw: Any) -> dict[str, Any]:
    toml = f"""
[probes.services]
timeout_s = 2.0
dns_server = "{GW_IP}"
ca_file = "{net.ca_file}"
captive_url = "{captive}"
captive_expect = "success"
services = [{", ".join(f'{{name = "{n}", url = "{u}"}}' for n, u in services.items())}]
"""
    proc = net.probe("services", toml, **kw)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_valid_expired_and_wrong_name_certificates(net: LanNet) -> None:
    out = _services(net, {"ENT": "https://good.test/", "Expired": "https://expired.test/",
                          "Wrong name": "https://wrongname.test/", "Forbidden": "http://forbidden.test/",
                          "Gone": "https://blocked.test/"},
                    "http://detect.test/success.txt")
    m = out["measurement"]
    by = {s["name"]: s for s in m["services"]}
    good = by["ENT"]
    assert (good["reachable"], good["http_status"], good["cert_valid"], good["address"]) == (
        True, 200, True, GW_IP)
    assert all(good[k] is not None and good[k] >= 0 for k in ("dns_ms", "tcp_ms", "tls_ms", "total_ms"))
    assert good["total_ms"] >= good["tls_ms"]
    assert good["cert_not_after"] is not None
    exp = by["Expired"]
    assert (exp["reachable"], exp["failed_step"], exp["cert_valid"]) == (False, "tls", False)
    assert exp["error"] == "tls: certificate has expired"
    wrong = by["Wrong name"]
    assert (wrong["reachable"], wrong["failed_step"], wrong["cert_valid"]) == (False, "tls", False)
    assert wrong["error"] == "tls: Hostname mismatch, certificate is not valid for 'wrongname.test'."
    forb = by["Forbidden"]
    assert (forb["reachable"], forb["http_status"], forb["failed_step"]) == (False, 403, "http")
    gone = by["Gone"]
    assert (gone["reachable"], gone["failed_step"]) == (False, "dns")
    assert "NXDOMAIN" in gone["error"]
    assert (m["services_total"], m["services_reachable"], m["all_reachable"]) == (5, 1, False)
    assert m["slowest_total_ms"] == good["total_ms"]
    assert m["captive_portal"] is False
    assert out["status"] == "ok"


def test_captive_portal_is_seen(net: LanNet) -> None:
    out = _services(net, {"ENT": "https://good.test/"}, "http://portal.test/success.txt")
    m = out["measurement"]
    assert (m["all_reachable"], m["captive_portal"]) == (True, True)


def test_services_run_unprivileged(net: LanNet) -> None:
    out = _services(net, {"ENT": "https://good.test/"}, "http://detect.test/success.txt", as_nobody=True)
    assert out["measurement"]["all_reachable"] is True
    assert out["measurement"]["captive_portal"] is False


def _filtering(net: LanNet, block: list[str], allow: list[str]) -> dict[str, Any]:
    toml = f"""
[probes.filtering]
timeout_s = 2.0
dns_server = "{GW_IP}"
ca_file = "{net.ca_file}"
must_block = {json.dumps(block)}
must_allow = {json.dumps(allow)}
block_page_markers = ["Accès refusé par le filtre"]
"""
    proc = net.probe("filtering", toml)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_filtering_in_place(net: LanNet) -> None:
    out = _filtering(net, ["https://blocked.test/", "http://sinkhole.test/", "https://blockpage.test/",
                           "http://forbidden.test/"], ["https://good.test/"])
    m = out["measurement"]
    how = {c["url"]: (c["verdict"], c["how"]) for c in m["checks"]}
    assert how["https://blocked.test/"] == ("blocked", "dns: NXDOMAIN (no such name)")
    assert how["http://sinkhole.test/"] == ("blocked", "dns: answered 0.0.0.0, a filter's sinkhole")
    assert how["https://blockpage.test/"] == (
        "blocked", "http 200: block page ('Accès refusé par le filtre')")
    assert how["http://forbidden.test/"] == ("blocked", "http 403")
    assert how["https://good.test/"] == ("allowed", "http 200")
    assert (m["must_block_total"], m["must_block_blocked"]) == (4, 4)
    assert (m["must_allow_total"], m["must_allow_allowed"]) == (1, 1)
    assert (m["in_place"], m["over_blocking"]) == (True, False)
    assert out["status"] == "ok"


def test_filtering_not_in_place(net: LanNet) -> None:
    # the "adult" page answers as any other: the filter lets it through
    out = _filtering(net, ["https://blocked.test/", "http://good.test/adult"], ["https://blockpage.test/"])
    m = out["measurement"]
    assert (m["must_block_total"], m["must_block_blocked"], m["in_place"]) == (2, 1, False)
    assert (m["must_allow_allowed"], m["over_blocking"]) == (0, True)
