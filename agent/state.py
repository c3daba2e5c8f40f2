"""The agent's state directory: its identity and its credential, owner-only."""

from __future__ import annotations

import json
import os
import platform
import socket
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from config.wire import DeviceIdentity


class Credential(BaseModel):
    """What enrolment gave this device."""

    model_config = ConfigDict(extra="forbid")

    collector_url: str
    agent_id: uuid.UUID
    token: str
    school_uai: str
    school_name: str
    room: str


def default_state_dir() -> Path:
    """``SOCLE_AGENT_HOME``, else the platform's place for a service's state."""
    env = os.environ.get("SOCLE_AGENT_HOME")
    if env:
        return Path(env)
    system = platform.system()
    if system == "Windows":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "Socle" / "agent"
    if system == "Darwin":
        return Path("/Library/Application Support/Socle/agent")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/socle-agent")
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "socle-agent"


def write_private(path: Path, data: str) -> None:
    """Write a file readable by its owner only, atomically (no half-written credential)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600) if hasattr(os, "fchmod") else None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class AgentState:
    """Files kept in the state directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def credential_path(self) -> Path:
        """Where the credential lives."""
        return self.root / "credential.json"

    def instance_id(self) -> uuid.UUID:
        """This agent's own identity, made once and kept."""
        path = self.root / "instance_id"
        try:
            return uuid.UUID(path.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return self.new_instance_id()

    def new_instance_id(self) -> uuid.UUID:
        """Draw a new identity (a clone that must stop being its original) and keep it."""
        new = uuid.uuid4()
        write_private(self.root / "instance_id", f"{new}\n")
        return new

    def identity(self) -> DeviceIdentity:
        """Who this agent says it is; the hardware is only a hint (placeholder SMBIOS UUIDs left out)."""
        from agent.identity import hardware_hint
        from config.wire import DeviceIdentity

        return DeviceIdentity(instance_id=self.instance_id(), hostname=socket.gethostname() or "unknown",
                              hardware_hint=hardware_hint())

    def credential(self) -> Credential | None:
        """The credential, or None when the agent is not enrolled."""
        try:
            raw = self.credential_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return Credential.model_validate(json.loads(raw))

    def save_credential(self, cred: Credential) -> None:
        """Keep the credential, owner-only."""
        write_private(self.credential_path, cred.model_dump_json(indent=2) + "\n")

