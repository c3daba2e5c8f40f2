"""``socle-agent bundle``: a folder of the agent's wheels for one platform, to install offline.

A district downloads once and installs thirty machines from a share, with the index
switched off. The wheels are resolved *for the target* (Windows, macOS, Linux, a Python
version), not for the machine that builds the folder:

1. ``uv pip compile`` resolves the agent's requirements (read from its wheel's metadata)
   for the target's platform and Python, binary wheels only, with the index's hashes;
2. ``pip download --no-deps --only-binary=:all: --platform ... --require-hashes`` fetches
   exactly those pins and checks each file against those hashes;
3. ``requirements.txt`` is rewritten to pin each distribution to the one file in the
   folder (its sha256), the agent's wheel included, and INSTALL.txt says the command:
   ``pip install --no-index --find-links DIR -r DIR/requirements.txt``.

A package that has no wheel for the target (source only: it would need a compiler on a
classroom machine) is refused with its name, and the folder is removed. uv is the
optional ``bundle`` extra of socle-agent: running the agent never needs it.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

_WIN = {"win_amd64": "x86_64-pc-windows-msvc", "win_arm64": "aarch64-pc-windows-msvc",
        "win32": "i686-pc-windows-msvc"}
_MAC_ARCH = {"arm64": "aarch64-apple-darwin", "x86_64": "x86_64-apple-darwin"}
_LINUX_ARCH = ("x86_64", "aarch64")
# uv's --python-platform names manylinux targets from glibc 2.17 to 2.40.
_UV_GLIBC = range(17, 41)
# PEP 600's legacy aliases: manylinux1 is glibc 2.5, manylinux2010 2.12, manylinux2014 2.17.
_LEGACY = {5: "manylinux1", 12: "manylinux2010", 17: "manylinux2014"}
EXAMPLES = "win_amd64, win_arm64, macosx_11_0_arm64, macosx_10_12_x86_64, manylinux_2_17_x86_64, " \
           "manylinux_2_17_aarch64"


class BundleError(Exception):
    """A bundle that cannot be made as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Target:
    """A platform to bundle for: its wheel tag, uv's name for it, and the tags pip accepts there."""

    tag: str
    uv_platform: str
    pip_platforms: tuple[str, ...]
    macos_version: str | None = None  # MACOSX_DEPLOYMENT_TARGET for uv


def manylinux_tags(glibc_minor: int, arch: str) -> tuple[str, ...]:
    """Every manylinux tag a glibc 2.N machine accepts, newest first (pip does not expand them)."""
    tags: list[str] = []
    for minor in range(glibc_minor, 4, -1):
        tags.append(f"manylinux_2_{minor}_{arch}")
        if minor in _LEGACY and (minor != 5 or arch in ("x86_64", "i686")):
            tags.append(f"{_LEGACY[minor]}_{arch}")
    return tuple(tags)


def parse_platform(tag: str) -> Target:
    """A wheel platform tag (``win_amd64``, ``macosx_11_0_arm64``, ``manylinux_2_17_x86_64``) as a Target."""
    t = tag.strip().lower().replace("-", "_").replace(".", "_")
    if t in _WIN:
        return Target(t, _WIN[t], (t,))
    if m := re.fullmatch(r"macosx_(\d+)_(\d+)_(arm64|x86_64)", t):
        major, minor, arch = int(m[1]), int(m[2]), m[3]
        if arch == "arm64" and major < 11:
            raise BundleError(f"{tag}: Apple silicon starts at macOS 11 (macosx_11_0_arm64)")
        # pip itself accepts the older macOS versions and universal2 wheels for this tag.
        return Target(t, _MAC_ARCH[arch], (t,), macos_version=f"{major}.{minor}")
    legacy = {v: k for k, v in _LEGACY.items()}
    if m := re.fullmatch(r"(manylinux1|manylinux2010|manylinux2014)_(\w+)", t):
        t = f"manylinux_2_{legacy[m[1]]}_{m[2]}"
    if m := re.fullmatch(r"manylinux_2_(\d+)_(\w+)", t):
        minor, arch = int(m[1]), m[2]
        if arch not in _LINUX_ARCH:
            raise BundleError(f"{tag}: Linux on {arch} is not supported (only {', '.join(_LINUX_ARCH)})")
        if minor not in _UV_GLIBC:
            raise BundleError(f"{tag}: glibc 2.{minor} is outside 2.17-2.40, the range the resolver knows")
        return Target(t, f"{arch}-manylinux_2_{minor}", manylinux_tags(minor, arch))
    raise BundleError(f"unknown platform {tag!r}; give a wheel platform tag such as {EXAMPLES}")


def parse_python(version: str) -> str:
    """``3.10`` or ``3.12`` (major.minor, 3.10 or newer): the target's CPython version."""
    m = re.fullmatch(r"3\.(\d+)", version.strip())
    if not m or int(m[1]) < 10:
        raise BundleError(f"--python {version!r}: give a CPython version 3.10 or newer, as 3.10 or 3.12")
    return f"3.{int(m[1])}"


def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_requirements(wheel: Path) -> tuple[str, str, list[str]]:
    """(name, version, run-time requirements without extras) from a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as zf:
        meta = next((n for n in zf.namelist() if n.endswith(".dist-info/METADATA")), None)
        if meta is None:
            raise BundleError(f"{wheel}: not a wheel (no .dist-info/METADATA)")
        msg = HeaderParser().parsestr(zf.read(meta).decode("utf-8"))
    reqs = [r for r in msg.get_all("Requires-Dist") or [] if "extra ==" not in r.replace('"', "'")]
    return msg["Name"], msg["Version"], reqs


@dataclass(frozen=True)
class Pin:
    """One resolved distribution: its version and the hashes the index lists for it."""

    version: str
    hashes: frozenset[str]


def parse_lock(text: str) -> dict[str, Pin]:
    """``uv pip compile --generate-hashes`` output as canonical name -> Pin."""
    pins: dict[str, Pin] = {}
    for entry in re.split(r"\n(?=\S)", text.replace("\\\n", " ")):
        line = entry.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(\S+)", line)
        if not m:
            raise BundleError(f"the resolver wrote a line this bundle cannot pin: {line[:120]!r}")
        pins[canonical(m[1])] = Pin(m[2], frozenset(re.findall(r"--hash=sha256:([0-9a-f]{64})", line)))
    return pins


def wheel_name_version(filename: str) -> tuple[str, str]:
    """(canonical name, version) from a wheel's file name (PEP 427)."""
    parts = filename[: -len(".whl")].split("-")
    if not filename.endswith(".whl") or len(parts) < 5:
        raise BundleError(f"{filename}: not a wheel; only wheels can be installed offline without a compiler")
    return canonical(parts[0]), parts[1]


def sha256(path: Path) -> str:
    """The file's sha256, hex."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def rewrite_lock(pins: dict[str, Pin], files: dict[str, str]) -> list[str]:
    """requirements.txt lines: each pin with the one hash of its file in the folder.

    ``files`` maps a wheel's file name to its sha256. Every pin needs exactly one wheel of
    its version, and that wheel's hash must be one the resolver listed.
    """
    by_name: dict[str, tuple[str, str, str]] = {}
    for filename, digest in files.items():
        name, version = wheel_name_version(filename)
        if name in by_name:
            raise BundleError(f"two wheels of {name} in the folder: {by_name[name][2]}, {filename}")
        by_name[name] = (version, digest, filename)
    lines = []
    for name, pin in sorted(pins.items()):
        if name not in by_name:
            raise BundleError(f"{name}=={pin.version}: no wheel of it was downloaded")
        version, digest, filename = by_name[name]
        if version != pin.version:
            raise BundleError(f"{filename}: version {version}, the resolver pinned {pin.version}")
        if pin.hashes and digest not in pin.hashes:
            raise BundleError(f"{filename}: its sha256 is not one the index lists for {name}=={version}")
        lines.append(f"{name}=={version} --hash=sha256:{digest}")
    extra = sorted(set(by_name) - set(pins))
    if extra:
        raise BundleError(f"wheels nobody asked for in the folder: {', '.join(extra)}")
    return lines


def source_only(stderr: str) -> str | None:
    """The requirement pip found no wheel for, from its error output, if that is why it failed."""
    m = re.search(r"No matching distribution found for (\S+)", stderr)
    return m[1] if m else None


def install_text(target: Target, python: str, agent: str, count: int, size_mb: float) -> str:
    """INSTALL.txt: what the folder is for and the one offline command."""
    return f"""Socle agent ({agent}): {count} wheels, {size_mb:.1f} MB,
for {target.tag} and CPython {python} only.

Copy this folder to the machines (or a share they read), then, with that Python:

    python -m venv VENV
    VENV/bin/python -m pip install --no-index --find-links DIR -r DIR/requirements.txt

(on Windows: VENV\\Scripts\\python.exe -m pip install --no-index --find-links DIR -r DIR\\requirements.txt)

DIR is this folder. --no-index: pip reads nothing but this folder; the hashes in
requirements.txt make it refuse any other file. Then: socle-agent enroll ... (docs/agent-operations.md).
"""
