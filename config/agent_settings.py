"""The agent's settings, declared once and validated at load."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from config.loading import load_toml


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class CollectorLink(_Section):
    """How the agent reaches its collector (the URL itself comes from enrolment)."""

    url: HttpUrl | None = None
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    ca_file: Path | None = None


class LatencySettings(_Section):
    """The latency probe: how many round trips and how far apart."""

    samples: int = Field(default=10, ge=3, le=200)
    interval_s: float = Field(default=0.05, ge=0, le=10)
    timeout_s: float = Field(default=2.0, gt=0, le=30)


class ProbeSettings(_Section):
    """Which probes run and how long each may take."""

    enabled: list[str] = Field(default_factory=lambda: ["device", "latency"])
    timeout_s: float = Field(default=60.0, gt=0, le=3600)
    latency: LatencySettings = Field(default_factory=LatencySettings)
    disk_path: Path | None = None


class AgentSettings(_Section):
    """Everything an agent's settings file may hold; every field has a default."""

    collector: CollectorLink = Field(default_factory=CollectorLink)
    probes: ProbeSettings = Field(default_factory=ProbeSettings)
    profile_path: Path | None = None


def load_agent_settings(path: Path | None) -> AgentSettings:
    """Load the settings file, or the defaults when there is none."""
    if path is None:
        return AgentSettings()
    return load_toml(path, AgentSettings)
