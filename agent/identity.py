"""Who this machine is: hardware hints (never trusted as identity) and the incarnation.

The agent's identity is the instance ID it made itself (``AgentState.instance_id``).
Hardware IDs are only hints shown to people: many boards ship a placeholder SMBIOS
UUID, and a cloned disk image copies everything on disk. What tells two copies of
one identity apart is the *incarnation* sent with each request, ``LINEAGE.BOOT``:

* the lineage digests the instance ID, the machine's MAC address (what any user
  can read, root or not, on every OS) and which copy of the state directory this
  is (its path and the file system's number for it): the same for every process
  of the agent and across reboots, different on another machine and for a second
  copy of the state directory on the same machine. The collector lets the lineage
  that enrolled keep the identity and makes any other re-enrol
  (collector/auth/identity.py).
* the boot part digests the boot ID (a random number Linux draws at each boot):
  it only tells reboots apart.
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


def state_copy(root: Path) -> str:
    """Which copy of the state directory ``root`` is: its absolute path and the file system's number
    for it, which a copy never shares (a disk image copied block by block keeps the number, but then
    the machine differs)."""
    real = root.resolve()
    try:
        number = real.stat().st_ino
    except OSError:
        number = 0
    return f"{real}|{number}"


def incarnation(instance_id: uuid.UUID, boot_id: str | None, mac: str | None, copy: str) -> str:
    """The header that tells two live copies of one identity apart: ``LINEAGE.BOOT`` (24 hex digits each)."""
    lineage = hashlib.sha256(f"{instance_id}|mac:{mac or 'unknown'}|{copy}".encode()).hexdigest()[:24]
    boot = hashlib.sha256(f"{instance_id}|boot:{boot_id or 'unknown'}".encode()).hexdigest()[:24]
    return f"{lineage}.{boot}"


def current_incarnation(instance_id: uuid.UUID, state_root: Path, fs_root: Path = Path("/")) -> str:
    """This copy's incarnation now."""
    return incarnation(instance_id, read_boot_id(fs_root), mac_hint(), state_copy(state_root))
