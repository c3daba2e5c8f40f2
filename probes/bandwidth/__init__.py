"""Internet bandwidth by ndt7: the probe (``probe``) and the modules it is made of.

``ndt7`` is the client, ``analysis`` the arithmetic on a transfer's progress,
``local`` the machine's side of a test, ``record`` its raw series and
``wifi_link`` the Wi-Fi reading taken with it.
"""

from probes.bandwidth.probe import SPEC, Direction, build_measurement, outcome_of, run

__all__ = ["SPEC", "Direction", "build_measurement", "outcome_of", "run"]
