"""A pure decoder of EDID blobs (VESA E-EDID 1.3/1.4 base block) and of hex dumps of them.

Only what tells which display this is gets decoded: identity, image size,
the preferred timing, the strings, the block structure (checksums, announced
extensions) and, through :mod:`probes.displays.cta`, the CTA-861 signals. A
broken blob (bad checksum, fewer blocks than announced, a short base block)
is decoded as far as its bytes go and its problems are listed; nothing is
invented for what is not there.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from probes.displays.cta import CtaInfo, parse_cta
from probes.displays.timing import Timing, parse_timing

HEADER = bytes.fromhex("00ffffffffffff00")
BLOCK = 128
# Byte 20, bits 3-0, EDID 1.4 "digital video interface standard supported".
INTERFACES = {1: "DVI", 2: "HDMI-a", 3: "HDMI-b", 4: "MDDI", 5: "DisplayPort"}
_HEX_LINE = re.compile(r"^\s*(?:[0-9A-Fa-f]{2}[\s,]*)+$")


class EdidError(ValueError):
    """The bytes are not an EDID (no header, or too short to name the display)."""


@dataclass
class Edid:
    """What one EDID says, as far as its bytes go; ``problems`` lists what is wrong with it."""

    pnp_id: str | None = None
    product_code: int | None = None
    serial_number: int | None = None
    week: int | None = None
    year: int | None = None
    model_year: bool | None = None
    edid_version: str | None = None
    digital: bool | None = None
    interface: str | None = None
    width_cm: int | None = None
    height_cm: int | None = None
    size_undefined: bool | None = None  # bytes 21-22 both 0: "image size variable or undefined"
    aspect_only: bool = False  # EDID 1.4: one of bytes 21-22 is 0, the other an aspect ratio
    name: str | None = None
    serial_string: str | None = None
    alnum_strings: list[str] = field(default_factory=list)
    has_range_limits: bool = False
    preferred: Timing | None = None
    extension_count: int | None = None
    blocks_present: int = 0
    extension_tags: list[str] = field(default_factory=list)
    checksum_ok: list[bool] = field(default_factory=list)
    truncated: bool = False
    cta: CtaInfo | None = None
    problems: list[str] = field(default_factory=list)
    raw: bytes = b""  # empty when the facts come from an OS tool rather than from an EDID
    manufacturer_hint: str | None = None  # the maker's name as an OS tool gives it

    @property
    def product_code_hex(self) -> str | None:
        """The product code as the OS shows it (``DEL`` + ``A0B8``)."""
        return None if self.product_code is None else f"{self.product_code:04X}"

    @property
    def diagonal_in(self) -> float | None:
        """The diagonal of the image size, in inches (None without a size)."""
        if not self.width_cm or not self.height_cm:
            return None
        return round(math.hypot(self.width_cm, self.height_cm) / 2.54, 1)


def pnp_letters(word: int) -> str:
    """Three 5-bit letters (1 = A) of bytes 8-9, big-endian; values outside A-Z as edid-decode shows them."""
    return "".join(chr(64 + ((word >> shift) & 0x1F)) for shift in (10, 5, 0))


def text_of(payload: bytes) -> str:
    """A descriptor string: up to the 0x0A terminator, trailing spaces and NULs dropped."""
    raw = payload.split(b"\x0a", 1)[0].rstrip(b" \x00")
    # edid-decode's reading too: the text stops at the first byte that is not printable ASCII.
    end = next((i for i, c in enumerate(raw) if not 0x20 <= c < 0x7F), len(raw))
    return raw[:end].rstrip(b" ").decode("ascii")


def _is_text(payload: bytes) -> bool:
    """A descriptor's 13 bytes are text up to the 0x0A terminator (no other control byte)."""
    return all(c >= 0x20 for c in payload.split(b"\x0a", 1)[0].rstrip(b"\x00"))


def _identity(e: Edid, b: bytes) -> None:
    e.pnp_id = pnp_letters(b[8] << 8 | b[9])
    if not re.fullmatch(r"[A-Z]{3}", e.pnp_id):
        e.problems.append(f"manufacturer id {e.pnp_id!r} is not three letters A-Z")
    e.product_code = b[10] | b[11] << 8
    e.serial_number = int.from_bytes(b[12:16], "little")
    if len(b) < 20:
        return
    week, year = b[16], 1990 + b[17]
    e.model_year = week == 0xFF
    e.week = week if 1 <= week <= 54 else None
    e.year = year
    e.edid_version = f"{b[18]}.{b[19]}"


def _display_params(e: Edid, b: bytes) -> None:
    e.digital = bool(b[20] & 0x80)
    if e.digital and e.edid_version == "1.4":
        e.interface = INTERFACES.get(b[20] & 0x0F)
    w, h = b[21], b[22]
    if w and h:
        e.width_cm, e.height_cm, e.size_undefined = w, h, False
    elif w or h:
        if e.edid_version == "1.4":
            e.aspect_only, e.size_undefined = True, False
        else:
            e.size_undefined = True
            e.problems.append(f"image size {w}x{h} cm: one side is 0")
    else:
        e.size_undefined = True


def _descriptors(e: Edid, b: bytes) -> None:
    for off in range(54, 126, 18):
        d = b[off:off + 18]
        timing = parse_timing(d)
        if timing is not None:
            if e.preferred is None:
                e.preferred = timing
            continue
        tag, payload = d[3], d[5:18]
        if tag == 0xFC and e.name is None:
            e.name = text_of(payload)
        elif tag == 0xFF and e.serial_string is None:
            e.serial_string = text_of(payload)
        elif tag == 0xFE and _is_text(payload):  # SPWG laptop panels keep binary data here
            e.alnum_strings.append(text_of(payload))
        elif tag == 0xFD:
            e.has_range_limits = True


def _blocks(e: Edid, data: bytes) -> None:
    e.extension_count = data[126]
    announced = e.extension_count + 1
    present = len(data) // BLOCK
    e.blocks_present = min(present, announced)
    if len(data) % BLOCK and present < announced:
        e.problems.append(f"{len(data) % BLOCK} bytes of an incomplete block after block {present - 1}")
    e.checksum_ok = [sum(data[i * BLOCK:(i + 1) * BLOCK]) % 256 == 0 for i in range(e.blocks_present)]
    for i, ok in enumerate(e.checksum_ok):
        if not ok:
            e.problems.append(f"bad checksum in block {i}" + (" (base block)" if i == 0 else ""))
    if present < announced:
        e.truncated = True
        e.problems.append(f"truncated: {present} of {announced} announced blocks present")
    for i in range(1, e.blocks_present):
        block = data[i * BLOCK:(i + 1) * BLOCK]
        e.extension_tags.append(f"{block[0]:02X}")
        if block[0] == 0x02 and e.cta is None:
            e.cta = parse_cta(block)


def parse_edid(data: bytes) -> Edid:
    """Decode an EDID blob (base block and extensions); raises EdidError when it is not one.

    Sample (first 20 bytes of a base block, hex)::

        00 ff ff ff ff ff ff 00 4c a3 05 a6 01 01 01 01 2e 15 01 03
    """
    if len(data) < 12 or data[:8] != HEADER:
        raise EdidError("no EDID header (00 ff ff ff ff ff ff 00)" if len(data) >= 8
                        else f"{len(data)} bytes: too short for an EDID")
    e = Edid(raw=bytes(data))
    _identity(e, data)
    if len(data) < BLOCK:
        e.truncated = True
        e.problems.append(f"base block cut short: {len(data)} of 128 bytes")
        if len(data) >= 23:
            _display_params(e, data)
        return e
    _display_params(e, data)
    _descriptors(e, data)
    _blocks(e, data)
    if e.preferred is None and e.cta is not None and e.cta.timings:
        e.preferred = e.cta.timings[0]
    return e


def hex_bytes(text: str) -> bytes | None:
    """The first EDID in a hex listing (spaced, compact, ``0x``-less, comma-separated); None if none.

    The listing may sit inside other text (edid-decode's output, ``xrandr --props``,
    a ``reg query`` line): the hex is read from the EDID header on, over hex-only
    lines and blank lines, and cut to the length the EDID announces.
    """
    digits = _hex_run(text)
    start = digits.find(HEADER.hex())
    while start != -1 and start % 2:
        start = digits.find(HEADER.hex(), start + 1)
    if start == -1:
        return None
    data = bytes.fromhex(digits[start:start + (len(digits) - start) // 2 * 2])
    if len(data) >= BLOCK:
        data = data[:BLOCK * (data[126] + 1)]
    return data


def _hex_run(text: str) -> str:
    """The hex digits of the first run of hex lines that holds an EDID header."""
    header = HEADER.hex()
    inline = re.search(r"(?i)00\s*ff\s*ff\s*ff\s*ff\s*ff\s*ff\s*00[0-9a-f\s,]*", text)
    run: list[str] = []
    for line in text.splitlines():
        if _HEX_LINE.match(line):
            run.append(re.sub(r"[\s,]", "", line).lower())
        elif line.strip() == "" and run:
            continue
        elif run:
            if header in "".join(run):
                break
            run = []
    digits = "".join(run)
    if header not in digits and inline is not None:  # one long value on a labelled line
        digits = re.sub(r"[\s,]", "", inline.group(0)).lower()
    return digits
