"""Requirement profiles: readiness rules as data, each with its source.

A rule reads one metric (``probe.field``, e.g. ``bandwidth.download_mbps``),
aggregates its samples over a window for each subject of its scope (the school,
each room, each device), compares the aggregate with a threshold and gates a
level (floor, base or target). Its ``source`` is a row id of the requirement
sources (e.g. ``A2``); ``proposed`` marks a figure that has no official source.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from config.compat import StrEnum
from config.hours import DEFAULT_TIMEZONE, HoursError, TeachingHours, parse_hours
from config.loading import load_toml

DEFAULT_PROFILE = "socle-default.toml"


class Scope(StrEnum):
    """What a rule is judged on."""

    school = "school"
    room = "room"
    device = "device"


class Aggregate(StrEnum):
    """How a subject's samples in the window become one value."""

    median = "median"
    mean = "mean"
    min = "min"
    max = "max"
    p10 = "p10"
    p90 = "p90"
    latest = "latest"
    share = "share"  # percentage of samples that meet the comparison


class Gate(StrEnum):
    """The level a rule gates: failing a floor or base rule means not ready."""

    floor = "floor"
    base = "base"
    target = "target"


Comparison = Literal[">=", ">", "<=", "<", "=="]


class Rule(BaseModel):
    """One readiness rule."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    title: str
    metric: str = Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
    comparison: Comparison
    threshold: float
    scope: Scope
    aggregate: Aggregate
    window_days: int = Field(ge=1, le=366)
    level: Gate
    source: str = Field(min_length=1)
    proposed: bool = False
    required: bool = True
    share_min_pct: float | None = Field(default=None, gt=0, le=100)
    scale_by: Literal["pupils", "pupils_and_staff"] | None = None
    scale_per_person: float | None = Field(default=None, gt=0)
    min_samples: int = Field(default=1, ge=1)
    # Only the samples taken in these weekly hours count (config/hours.py syntax, in ``timezone``);
    # None: every sample of the window.
    hours: str | None = Field(default=None, max_length=200)
    timezone: str = DEFAULT_TIMEZONE
    note: str | None = None
    _hours: TeachingHours | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        if self.aggregate is Aggregate.share and self.share_min_pct is None:
            raise ValueError("aggregate 'share' needs share_min_pct")
        if self.aggregate is not Aggregate.share and self.share_min_pct is not None:
            raise ValueError("share_min_pct only goes with aggregate 'share'")
        if (self.scale_by is None) != (self.scale_per_person is None):
            raise ValueError("scale_by and scale_per_person go together")
        if self.scale_by is not None and self.scope is not Scope.school:
            raise ValueError("per-pupil scaling only applies to school-scope rules")
        if self.hours is not None:
            try:
                self._hours = parse_hours(self.hours, self.timezone)
            except HoursError as exc:
                raise ValueError(f"hours: {exc}") from None
        return self

    @property
    def during(self) -> TeachingHours | None:
        """The weekly hours in which samples count, or None when every sample of the window does."""
        return self._hours

    @property
    def probe(self) -> str:
        """The probe whose results feed this rule."""
        return self.metric.split(".", 1)[0]


class Need(StrEnum):
    """What an equipment rule counts (config/equipment.py says which declared items make each)."""

    projection = "projection"  # a collective projection system: projector, interactive display or board
    teacher_computer = "teacher_computer"  # a computer to drive it
    mobile_device = "mobile_device"  # tablets and laptops of a mobile class
    mdm = "mdm"  # a fleet management (mobile device management) system
    charging_cabinet = "charging_cabinet"  # a storage and charging cabinet for the mobile devices


class EquipmentRule(BaseModel):
    """One equipment rule (E1-E4): at least ``at_least`` of a need per class (``scope = "class"``), or
    for the school, scaled by its classes when ``per_classes`` is set (``at_least`` per that many
    classes, rounded up). ``where_present`` judges the rule only where the school has that need
    (E4: an MDM where there are mobile devices); ``declared_only`` counts only declarations (nothing
    on a machine shows a charging cabinet). Judged by collector/equipment/rules.py."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    title: str
    need: Need
    scope: Literal["class", "school"]
    at_least: int = Field(ge=1, le=1000)
    per_classes: int | None = Field(default=None, ge=1, le=100)
    where_present: Need | None = None
    declared_only: bool = False
    level: Gate = Gate.base
    source: str = Field(min_length=1)
    proposed: bool = False
    required: bool = True
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> EquipmentRule:
        if self.scope == "class" and (self.per_classes is not None or self.where_present is not None):
            raise ValueError("per_classes and where_present only go with scope 'school'")
        return self


class ProfileInfo(BaseModel):
    """Who wrote a profile and when."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    title: str
    version: str
    silent_after_days: int = Field(default=3, ge=1, le=90)


class Profile(BaseModel):
    """A requirement profile: what a school must show to be ready."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    profile: ProfileInfo
    rules: list[Rule] = Field(min_length=1)
    # The equipment part of the verdict, judged apart from the network rules (docs/architecture.md).
    equipment: list[EquipmentRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> Profile:
        seen: set[str] = set()
        for rule_id in [r.id for r in self.rules] + [r.id for r in self.equipment]:
            if rule_id in seen:
                raise ValueError(f"rule id {rule_id!r} appears twice")
            seen.add(rule_id)
        return self


def load_profile(path: Path | None = None) -> Profile:
    """Load a profile file, or the bundled default profile when ``path`` is None."""
    if path is None:
        ref = resources.files("config") / "profiles" / DEFAULT_PROFILE
        with resources.as_file(ref) as real:
            return load_toml(Path(real), Profile)
    return load_toml(path, Profile)
