"""Who this machine is: hardware hints (never trusted as identity) and the incarnation.

The agent's identity is the instance ID it made itself (``AgentState.instance_id``).
Hardware IDs are only hints shown to people: many boards ship a placeholder SMBIOS
UUID, and a cloned disk image copies everything on disk. What tells two machines
apart while both run is the *incarnation* sent with each request: a digest of the
instance ID and the boot ID (a random number the kernel draws at each boot), so
it is stable between the agent's processes on one machine, new after a reboot,
and different on a clone. Where there is no boot ID (Windows, macOS) the usable
SMBIOS UUID or the MAC address stands in for it.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path

# SMBIOS UUIDs that whole series of boards share: treating them as unique would merge machines.
PLACEHOLDER_UUIDS = frozenset({
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "03000200-0400-0500-0006-000700080009",  # many AMI BIOSes (Gigabyte, ASRock, no-name boards)
    "00020003-0004-0005-0006-000700080009",  # the same, read with the other byte order
    "00010203-0405-0607-0809-0a0b0c0d0e0f",
    "fefefefe-fefe-fefe-fefe-fefefefefefe",
    "deadbeef-dead-beef-dead-beefdeadbeef",
    "12345678-1234-5678-90ab-cddeefaabbcc",
})


def usable_hardware_uuid(raw: str | None) -> str | None:
    """The SMBIOS UUID in lower case, or None when it is absent, not a UUID or a known placeholder.

    >>> usable_hardware_uuid("03000200-0400-0500-0006-000700080009") is None
    True
    """
    if not raw:
        return None
    text = raw.strip().strip("{}").lower()
    try:
        value = str(uuid.UUID(text))
    except ValueError:  # "Not Settable", "Default string", "To Be Filled By O.E.M."
        return None
    if value in PLACEHOLDER_UUIDS or len(set(value.replace("-", ""))) == 1:
        return None
    return value


def read_hardware_uuid(fs_root: Path = Path("/")) -> str | None:
    """The usable SMBIOS product UUID on Linux (readable by root only), else None."""
    try:
        raw = (fs_root / "sys/class/dmi/id/product_uuid").read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None
    return usable_hardware_uuid(raw)


def read_boot_id(fs_root: Path = Path("/")) -> str | None:
    """Linux's per-boot random ID (readable by every user), else None."""
    try:
        raw = (fs_root / "proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return raw if re.fullmatch(r"[0-9a-f-]{32,36}", raw) else None


def mac_hint() -> str | None:
    """The MAC address Python picks for this machine, unless it had to make one up."""
    node = uuid.getnode()
    if (node >> 40) & 0x01:  # the multicast bit: uuid.getnode() drew a random number
        return None
    return f"{node:012x}"


def hardware_hint(fs_root: Path = Path("/")) -> str | None:
    """A hint for people matching an agent to a machine; never used as identity."""
    hw = read_hardware_uuid(fs_root)
    if hw:
        return f"smbios:{hw}"
    mac = mac_hint()
    return f"mac:{mac}" if mac else None


def incarnation(instance_id: uuid.UUID, boot_id: str | None, hw_uuid: str | None, mac: str | None) -> str:
    """The digest that tells two live machines sharing one identity apart (32 hex digits)."""
    machine = (f"boot:{boot_id}" if boot_id else f"smbios:{hw_uuid}" if hw_uuid
               else f"mac:{mac}" if mac else "unknown")
    return hashlib.sha256(f"{instance_id}|{machine}".encode()).hexdigest()[:32]


def current_incarnation(instance_id: uuid.UUID, fs_root: Path = Path("/")) -> str:
    """This machine's incarnation now."""
    return incarnation(instance_id, read_boot_id(fs_root), read_hardware_uuid(fs_root), mac_hint())
