"""Wi-Fi: one module per OS / tool family, the tool recognised from content, and the probe."""

from probes.wifi.probe import SPEC, run

__all__ = ["SPEC", "run"]
