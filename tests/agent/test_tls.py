"""The system trust store on macOS and Windows (agent/tls.py), with the OS and the import injected;
and, where truststore is installed here, its real injection into ``ssl``."""

from __future__ import annotations

import ssl
from types import ModuleType, SimpleNamespace

import pytest

from agent.tls import use_system_trust


def _fake(calls: list[str]) -> ModuleType:
    return SimpleNamespace(inject_into_ssl=lambda: calls.append("inject"))  # type: ignore[return-value]


@pytest.mark.parametrize(("os_name", "used"), [("darwin", True), ("windows", True), ("linux", False)])
def test_used_on_macos_and_windows_only(os_name: str, used: bool) -> None:
    calls: list[str] = []
    assert use_system_trust(os_name, importer=lambda _name: _fake(calls)) is used
    assert calls == (["inject"] if used else [])


def test_missing_truststore_falls_back_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    def missing(name: str) -> ModuleType:
        raise ModuleNotFoundError(f"No module named '{name}'")
    assert use_system_trust("darwin", importer=missing) is False
    assert "truststore unavailable" in caplog.text


def test_the_real_truststore_replaces_ssl_contexts() -> None:
    truststore = pytest.importorskip("truststore")
    try:
        assert use_system_trust("darwin") is True  # the OS is injected; truststore works on Linux too
        assert isinstance(ssl.create_default_context(), truststore.SSLContext)
    finally:
        truststore.extract_from_ssl()
    assert not isinstance(ssl.create_default_context(), truststore.SSLContext)
