"""Displays: every attached display's EDID, decoded and classified (projector, interactive display...)."""

from probes.displays.probe import SPEC, run

__all__ = ["SPEC", "run"]
