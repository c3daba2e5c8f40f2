"""Every agent configuration the tests and benches run with points only at this machine.

A default that names a public host (the captive-portal check's URL, the
services' list, the LAN probe's DNS names) must be overridden wherever an
enabled probe would use it; a setting left to "the system's" (the default
route's gateway, the system resolver for a public name) leaves the machine too.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from config.agent_settings import AgentSettings, load_agent_settings
from tests.conftest import FIXTURES, ROOT

LOOPBACK_NAMES = {"localhost"}


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def off_machine(settings: AgentSettings) -> list[str]:
    """``setting: target`` for every place an enabled probe would reach that is not loopback."""
    p, enabled = settings.probes, set(settings.probes.enabled)
    urls: list[tuple[str, str | None]] = []
    if settings.collector.url is not None:
        urls.append(("collector.url", str(settings.collector.url)))
    if "bandwidth" in enabled and p.bandwidth.server:
        urls.append(("probes.bandwidth.server", p.bandwidth.server))
    if "services" in enabled:
        urls += [(f"probes.services.services[{s.name}]", s.url) for s in p.services.services]
        urls += [("probes.services.ent_url", p.services.ent_url), ("probes.services.captive_url",
                                                                   p.services.captive_url)]
    if "filtering" in enabled:
        urls += [("probes.filtering", u) for u in [*p.filtering.must_block, *p.filtering.must_allow]]
    bad = [f"{name}: {url}" for name, url in urls if url and not _is_loopback(urlsplit(url).hostname)]
    if "lan" in enabled:
        for name, host in (("gateway", p.lan.gateway), ("mtu_target", p.lan.mtu_target or p.lan.gateway)):
            if not _is_loopback(host):
                bad.append(f"probes.lan.{name}: {host or 'the default route gateway'}")
        bad += [f"probes.lan.dns_names: {n}" for n in p.lan.dns_names if not _is_loopback(n)]
        if p.lan.dns_server is not None and not _is_loopback(p.lan.dns_server):
            bad.append(f"probes.lan.dns_server: {p.lan.dns_server}")
    for name, server in (("services", p.services.dns_server), ("filtering", p.filtering.dns_server)):
        if name in enabled and server is not None and not _is_loopback(server):
            bad.append(f"probes.{name}.dns_server: {server}")
    return bad


def _bench(name: str) -> object:
    loader = importlib.machinery.SourceFileLoader(f"bench_{name}", str(ROOT / "bench" / name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_the_guard_sees_the_public_defaults() -> None:
    bad = off_machine(AgentSettings())
    assert "probes.services.captive_url: http://detectportal.firefox.com/success.txt" in bad
    assert "probes.lan.gateway: the default route gateway" in bad
    assert any(b.startswith("probes.lan.dns_names: ") for b in bad)


def test_the_suites_agent_settings_stay_on_this_machine() -> None:
    assert off_machine(load_agent_settings(FIXTURES / "agent" / "loopback.toml")) == []


@pytest.mark.parametrize("probes", [
    ["device", "latency", "bandwidth", "lan", "services", "filtering", "wifi"],  # what the bench runs
    ["device", "latency", "bandwidth", "lan", "services", "filtering", "wifi", "displays"],
])
def test_the_footprint_bench_sends_nothing_off_the_machine(tmp_path: Path, probes: list[str]) -> None:
    bench = _bench("agent_footprint")
    config = tmp_path / "agent.toml"
    bench.agent_config(config, "http://127.0.0.1:8080", probes)  # type: ignore[attr-defined]
    settings = load_agent_settings(config)
    assert settings.probes.enabled == probes
    assert off_machine(settings) == []
