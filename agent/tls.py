"""HTTPS through the operating system's own trust store on macOS and Windows (``truststore``).

A python.org Python on macOS ships no CA bundle of its own, and a school's Windows machines trust
the district's proxy through the Windows store, not through a file: verified against OpenSSL's paths
alone, every service and the collector would read as a TLS failure there. ``truststore`` makes every
``ssl`` context of the process (requests to the collector, the services probe, the ndt7 WebSockets)
verify through the platform's verifier (Security.framework, CryptoAPI). On Linux OpenSSL already
reads the system's store, so nothing changes there. A CA file in the settings is still added.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from types import ModuleType

log = logging.getLogger("socle.agent.tls")
SYSTEM_STORE_OS = ("darwin", "windows")


def use_system_trust(os_name: str, importer: Callable[[str], ModuleType] = importlib.import_module) -> bool:
    """On macOS and Windows, verify TLS through the system's trust store; True when it does."""
    if os_name not in SYSTEM_STORE_OS:
        return False
    try:
        truststore = importer("truststore")
        truststore.inject_into_ssl()
    except Exception as exc:  # noqa: BLE001 - missing or refusing: OpenSSL's own store, and say so
        log.warning("truststore unavailable (%s): TLS verified against OpenSSL's own CA paths", exc)
        return False
    return True
