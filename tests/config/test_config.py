"""Configuration is validated data: examples load, bad files name file, field and reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.agent_settings import AgentSettings, load_agent_settings
from config.collector_settings import CollectorSettings, load_collector_settings
from config.loading import ConfigError
from config.profile import Profile, load_profile
from probes import registry
from tests.conftest import ROOT

EXAMPLES = ROOT / "config" / "examples"
# The row ids of the requirement sources (docs/requirements.md mirrors them).
SOURCE_IDS = {"A1", "A2", "A3", "A6", "A9", "A12", "A13", "W1", "W2", "W4", "W6", "W7", "W8", "W11",
              "W12", "E1", "E2", "E3", "E5", "E7", "F1", "F2", "F4"}


def test_example_agent_settings_load_and_equal_the_defaults_they_show() -> None:
    settings = load_agent_settings(EXAMPLES / "agent.toml")
    assert settings.probes.latency.samples == AgentSettings().probes.latency.samples
    assert all(name in registry.PROBES for name in settings.probes.enabled)


def test_example_collector_settings_load() -> None:
    settings = load_collector_settings(EXAMPLES / "collector.toml")
    assert settings.port == CollectorSettings().port == 8470


def test_every_bundled_profile_loads_and_cites_a_known_source() -> None:
    profiles = sorted((ROOT / "config" / "profiles").glob("*.toml"))
    assert profiles
    for path in profiles:
        profile = load_profile(path)
        for rule in profile.rules:
            assert rule.source in SOURCE_IDS, (path.name, rule.id, rule.source)


def test_default_profile_has_the_rules_the_requirements_ask_for() -> None:
    profile = load_profile()
    sources = {r.source for r in profile.rules}
    assert {"A1", "A2", "A3", "A6", "A12", "E5", "E7", "W6", "W7"} <= sources
    a2 = next(r for r in profile.rules if r.id == "A2-download-base")
    assert (a2.threshold, a2.scale_by, a2.scale_per_person) == (16, "pupils", 0.05)
    assert all(r.proposed for r in profile.rules if r.source in {"A12", "E7"})


@pytest.mark.parametrize(("text", "field", "reason"), [
    ("[probes]\ntimeout_s = -1\n", "probes.timeout_s", "greater than 0"),
    ("[probes.latency]\nsamples = 'ten'\n", "probes.latency.samples", "valid integer"),
    ("[colector]\nurl = 'http://x'\n", "colector", "Extra inputs are not permitted"),
    ("[collector]\nurl = 'not a url'\n", "collector.url", "URL"),
])
def test_bad_agent_settings_name_file_field_and_reason(tmp_path: Path, text: str, field: str,
                                                       reason: str) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_agent_settings(path)
    assert str(path) in str(err.value)
    assert field in str(err.value)
    assert reason in str(err.value)


def test_toml_syntax_errors_and_missing_files_are_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[probes\n")
    with pytest.raises(ConfigError, match=re.escape(str(bad)) + ": not valid TOML"):
        load_agent_settings(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_agent_settings(tmp_path / "absent.toml")


@pytest.mark.parametrize(("rule_patch", "message"), [
    ({"aggregate": "share"}, "aggregate 'share' needs share_min_pct"),
    ({"scale_by": "pupils"}, "scale_by and scale_per_person go together"),
    ({"level": "gold"}, "rules.0.level"),
    ({"metric": "download"}, "rules.0.metric"),
])
def test_bad_profiles_are_refused_with_the_reason(tmp_path: Path, rule_patch: dict[str, str],
                                                  message: str) -> None:
    rule = {"id": "r", "title": "t", "metric": "bandwidth.download_mbps", "comparison": ">=",
            "threshold": 8, "scope": "school", "aggregate": "median", "window_days": 7,
            "level": "floor", "source": "A1", **rule_patch}
    body = "\n".join(f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in rule.items())
    path = tmp_path / "profile.toml"
    path.write_text(f"[profile]\nid = 'p'\ntitle = 't'\nversion = '1'\n\n[[rules]]\n{body}\n"
                    .replace("'", '"'))
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_profile(path)


def test_profile_round_trips_through_the_wire() -> None:
    profile = load_profile()
    assert Profile.model_validate_json(profile.model_dump_json()) == profile


def test_settings_with_a_utf8_bom_or_in_utf16_are_read(tmp_path: Path) -> None:
    """What Notepad writes: UTF-8 with a byte-order mark, or "Unicode" (UTF-16 LE with its mark)."""
    from config.agent_settings import load_agent_settings

    text = "[collector]\nurl = 'https://socle.example.fr'\n[probes]\ndisk_path = 'C:\\'\n"
    for name, data in (("bom.toml", b"\xef\xbb\xbf" + text.encode()), ("utf16.toml", text.encode("utf-16"))):
        (tmp_path / name).write_bytes(data)
        settings = load_agent_settings(tmp_path / name)
        assert str(settings.collector.url) == "https://socle.example.fr/"
        assert str(settings.probes.disk_path) == "C:\\"


def test_utf16_without_a_mark_and_latin1_are_refused_clearly(tmp_path: Path) -> None:
    from config.agent_settings import load_agent_settings

    (tmp_path / "nomark.toml").write_bytes("[collector]\n".encode("utf-16-le"))
    with pytest.raises(ConfigError, match="UTF-16 without a byte-order mark; save it as UTF-8"):
        load_agent_settings(tmp_path / "nomark.toml")
    (tmp_path / "latin1.toml").write_bytes("[collector]\nurl = 'https://école.fr'\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"not UTF-8 text .*save it as UTF-8"):
        load_agent_settings(tmp_path / "latin1.toml")


def test_a_windows_path_in_double_quotes_gets_a_hint(tmp_path: Path) -> None:
    from config.agent_settings import load_agent_settings

    (tmp_path / "win.toml").write_text('[spool]\npath = "C:\\ProgramData\\Socle\\spool.sqlite3"\n')
    with pytest.raises(ConfigError, match="single quotes"):
        load_agent_settings(tmp_path / "win.toml")
