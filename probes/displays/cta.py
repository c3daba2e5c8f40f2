"""The CTA-861 extension block: the few signals that help tell a TV, a projector and a monitor apart.

Layout (CTA-861-G §7.5): byte 0 tag 0x02, byte 1 revision, byte 2 the offset
of the first DTD, byte 3 flags (underscan, basic audio, YCbCr 4:4:4 / 4:2:2,
native DTD count); data blocks from byte 4 to that offset, each a header byte
(tag in bits 7-5, length in bits 4-0) and its payload.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from probes.displays.timing import Timing, parse_timing

HDMI_OUI = 0x000C03  # HDMI Licensing, LLC: the HDMI 1.x vendor-specific data block
HDMI_FORUM_OUI = 0xC45DD8  # HDMI Forum: the HDMI 2.x block (HF-VSDB)
# Audio format codes (CTA-861 table 37) that only home-cinema sinks (TVs, receivers) carry.
TV_AUDIO = {2: "AC-3", 7: "DTS", 10: "E-AC-3", 11: "DTS-HD", 12: "Dolby TrueHD/MAT"}
# HDMI VSDB "Image_Size" (HDMI 1.4b §8.3.2): what the base block's image size means.
IMAGE_SIZE = {0: None, 1: "aspect_ratio", 2: "cm", 3: "5cm"}


@dataclass
class CtaInfo:
    """What a CTA-861 block says about the sink."""

    revision: int
    underscan: bool = False
    basic_audio: bool = False
    hdmi: bool = False  # an HDMI vendor block: the sink has HDMI inputs
    hdmi_forum: bool = False
    image_size_meaning: str | None = None  # from the HDMI VSDB: "aspect_ratio" on some projectors
    audio_formats: list[str] = field(default_factory=list)
    vics: list[int] = field(default_factory=list)
    native_vics: list[int] = field(default_factory=list)
    timings: list[Timing] = field(default_factory=list)


def _hdmi_image_size(payload: bytes) -> str | None:
    """The Image_Size field of an HDMI 1.x VSDB, when the block is long enough to hold it."""
    if len(payload) < 8:
        return None
    flags = payload[7]
    i = 8
    if flags & 0x80:  # Latency_Fields_Present
        i += 2
    if flags & 0x40:  # I_Latency_Fields_Present
        i += 2
    if not flags & 0x20 or len(payload) <= i:  # no HDMI_Video_present byte
        return None
    return IMAGE_SIZE[(payload[i] >> 3) & 0x03]


def _data_block(info: CtaInfo, tag: int, payload: bytes) -> None:
    if tag == 1:  # audio: 3-byte short audio descriptors
        for j in range(0, len(payload) - 2, 3):
            code = (payload[j] >> 3) & 0x0F
            if code in TV_AUDIO and TV_AUDIO[code] not in info.audio_formats:
                info.audio_formats.append(TV_AUDIO[code])
    elif tag == 2:  # video: short video descriptors; bit 7 marks a native mode for VICs 1-64
        for svd in payload:
            vic = svd & 0x7F if 1 <= svd & 0x7F <= 64 and svd & 0x80 else svd
            info.vics.append(vic)
            if vic != svd:
                info.native_vics.append(vic)
    elif tag == 3 and len(payload) >= 3:
        oui = payload[0] | payload[1] << 8 | payload[2] << 16
        if oui == HDMI_OUI:
            info.hdmi = True
            info.image_size_meaning = _hdmi_image_size(payload)
        elif oui == HDMI_FORUM_OUI:
            info.hdmi_forum = True


def parse_cta(block: bytes) -> CtaInfo:
    """One 128-byte CTA-861 extension block (tag 0x02), read as far as its offsets are sane.

    Sample (first bytes, hex): ``02 03 2a f2 4e 06 15 02 11 04 ...`` (revision 3,
    DTDs from byte 0x2a, underscan + audio + YCbCr, a 14-byte video data block).
    """
    info = CtaInfo(revision=block[1])
    dtd_start = block[2]
    if info.revision >= 2:
        info.underscan = bool(block[3] & 0x80)
        info.basic_audio = bool(block[3] & 0x40)
    if info.revision >= 3 and 4 <= dtd_start <= 127:
        i = 4
        while i < dtd_start:
            tag, length = block[i] >> 5, block[i] & 0x1F
            _data_block(info, tag, block[i + 1:min(i + 1 + length, dtd_start)])
            i += 1 + length
    if 4 <= dtd_start <= 127:
        for off in range(dtd_start, 127 - 17, 18):
            timing = parse_timing(block[off:off + 18])
            if timing is None:
                break
            info.timings.append(timing)
    return info
