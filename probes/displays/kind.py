"""Which kind of display an EDID describes, and why — a pure function of its signals.

The order of the rules is the order of trust (docs/displays.md): the connector
the OS reports, then what the display calls itself (the 0xFC name), then its
maker's PNP id, then the image size and its plausibility, then CTA-861 hints.
Every rule names the signals it used; where they cannot tell (a TV and an
interactive panel of the same size, anything behind an AV switcher) the
answer is ``unknown`` and the reason says why.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from probes.displays.edid import Edid
from probes.displays.pnp import short_maker as maker_name

Verdict = tuple[str, str]

# What sits between the computer and the real display: its EDID hides the display behind it.
AV_NAME = re.compile(r"EXTRON|KRAMER|SPLITTER|SWITCHER|\bKVM\b|PI-KVM|TINYPILOT|SCALER|\bAVR\b|AVAMP|"
                     r"RECEIVER|HDBASE-?T|\bMATRIX\b|CAPTURE|ELGATO|CAM ?LINK|MAGEWELL|AVERMEDIA|"
                     r"BLACKMAGIC|LIGHTWARE|CRESTRON|ATLONA|DENON|MARANTZ|ONKYO|EXTENDER|SOUNDBAR|"
                     r"_AMP\b|\bAV ?AMP|TESMART|H2C\b|LONTIUM|ADAPTER|CONVERTER|DONGLE|^(?:DVI|HDMI)-VGA$|"
                     r"^VSX-|^STR-D",
                     re.I)
AV_PNP = {"EXN", "KMR", "DON", "MJI", "ONK", "YMH", "LTW", "LWR", "CEI", "AMX", "EGA", "BMD"}
# Chip makers whose id is left in the EDIDs of adapters, splitters and extenders.
CHIP_PNP = {"ITE", "LTM", "PRT", "ANX", "ANL", "SYN", "RTL", "MST"}

PROJECTOR_NAME = re.compile(
    r"(?:^|[\s_-])PJ(?:$|[\s_\d-])|PROJECT(?:OR|EUR)|PROJEKTOR|BEAMER|OPTOMA|IN ?FOCUS|VIVITEK|QUMI|XGIMI|"
    r"CASIO-PJ|^RPJ|^NP-[A-Z]{1,2}\d|^PJD\d|^PJ\d|^PT-[A-Z]{1,3}\d|^VPL-|^EB-|^EH-[A-Z]{2}\d|"
    r"^SMART (?:UF?|V)\d|^LV-[A-Z]?\d", re.I)
# Makers whose only displays are projectors.
PROJECTOR_ONLY_PNP = {"OTM", "IFS", "XGM", "GMI", "MXL"}
# Makers of projectors (among other things) whose projectors report no image size.
PROJECTOR_MAKERS = {"SEC", "BNQ", "ACR", "NEC", "VSC", "SBI", "RIC", "MXL", "CAS", "DPC", "OPT", "DEL", "CNN",
                    "CAI", "IFS", "OTM", "XGM", "GMI", "MEL", "CDG"}
# ... and the shapes of their monitors' model names, which a stray 0x0 must not turn into projectors
# (ViewSonic VG2732, BenQ GW2480, Dell U2415); Acer's 0x0 EDIDs are its projectors'.
MONITOR_MODEL = {
    "VSC": re.compile(r"^(?:VIEWSONIC )?V[AXGP]\d{4}", re.I),
    "BNQ": re.compile(r"^(?:BENQ )?[A-Z]{2}\d{4}", re.I),
    "DEL": re.compile(r"^DELL [A-Z]{1,2}\d{4}", re.I),
}
# A monitor maker's word and a model number, for what comes without an EDID (system_profiler).
MONITOR_MAKER_MODEL = re.compile(r"^(?:DELL|HP|ACER|ASUS|AOC|BENQ|IIYAMA|LENOVO|EIZO|VIEWSONIC|PHILIPS|LG|"
                                 r"SAMSUNG|FUJITSU|NEC|MSI|GIGABYTE)\s+[A-Z]{0,3}\d{3,4}[A-Z]{0,4}\b", re.I)
# VR headsets report a token size and a name; they are no classroom display.
HEADSET_NAME = re.compile(r"^MR$|\bVR\d?\b|VIVE|RIFT|\bHMD\b|OCULUS|^INDEX", re.I)
HEADSET_PNP = {"VLV", "HVR", "OVR", "PIM"}
# Model-number shapes of a maker's projectors next to its monitors (BenQ MW516 vs GW2480,
# Acer P1283 / H6517ST vs K242HL, ViewSonic PA503W vs VA2419, NEC NP-M311X).
PROJECTOR_MODEL = {
    "BNQ": re.compile(r"^(?:BENQ )?(?:[A-Z]{1,2}\d{3}(?:[A-Z]{0,3}|ST|\+)|W\d{4}|HT\d{4}|TK\d{3}|LU\d{3,4})$",
                      re.I),
    "ACR": re.compile(r"^(?:ACER )?(?:[PXHSUVDK]\d{4}[A-Z]{0,4}|X\d{3}[A-Z]{0,2}|K\d{3}[A-Z]?|C\d{3})$",
                      re.I),
    "VSC": re.compile(r"^(?:VIEWSONIC )?(?:P[ASXGJ]\d{3}|LS\d{3}|M1)", re.I),
    "DEL": re.compile(r"^DELL [MS]\d{3}[A-Z]{0,2}$|^DELL \d{4}(?:X|S|MP|WX|HD|W)$", re.I),
}

INTERACTIVE_NAME = re.compile(
    r"SBID|ACTI?V ?PANEL|ACTVIPANEL|^AP\d|PROMETHEAN|BENQ R[PME]\d|\bIFP|VIEWBOARD|NEWLINE|"
    r"CLEVERTOUCH|CTOUCH|BOXLIGHT|PROCOLOR|MIMIO|DTEN|SAHARA|SPEECHI|PROWISE|INTERACTIVE|STARBOARD|MAXHUB|"
    r"IDEAHUB|\bFLIP\b|BIG ?PAD|^PN-\d{2}T|^PN-L\d|\bBOARD\b|WHITEBOARD|I3TOUCH|ONESCREEN|VIBE", re.I)
INTERACTIVE_PNP = {"SBI", "PRW", "HHT", "NLE", "NWL", "MIM"}
# Makers whose large-format panels are mostly interactive (iiyama ProLite TE, "PL" + digits).
LARGE_INTERACTIVE_PNP = {"IVM"}

TV_NAME = re.compile(r"TV|TELEVISION|^KDL?-\d|^XBR|^OLED\d|^TX-\d|^LE\d{2}[A-Z]|^\d{2}(?:PFL|PUS|PFS|OLED)",
                     re.I)
TV_MAKER_WORD = re.compile(r"^(?:SAMSUNG|PHILIPS|HISENSE|TCL|VIZIO|SHARP(?: HDMI)?|TOSHIBA|PANASONIC|"
                           r"GRUNDIG|THOMSON|HAIER|SKYWORTH|CHANGHONG|SONY|LG|TELEFUNKEN|XIAOMI|MI TV)$",
                           re.I)
TV_PNP = {"SAM", "SEM", "GSM", "SNY", "PHL", "TSB", "SHP", "MEI", "HEC", "TCL", "TOL", "VIZ", "SKW", "CHO",
          "CHD", "CHG", "HRE", "VES", "TTE", "GRU", "XMI", "FNI", "HKC", "JVC", "SAN", "RKU", "BBY", "INS",
          "ELE"}

PANEL_PNP = {"AUO", "BOE", "LGD", "LPL", "CMN", "CMO", "SDC", "IVO", "HSD", "HSP", "INL", "TMA", "JDI",
             "NCP", "CSO", "QDS", "LCD", "CPT", "CHT", "CGA", "SHP", "SEC", "KDB", "STA", "TMX"}
PANEL_NAME = re.compile(r"^(?:COLOR LCD|INTERNAL|BUILT-?IN|LCD$)|^(?:LP|LTN|LTM|LTD|LQ|LM|HB|NV|MB|TV)\d{3}|"
                        r"^B\d{3}[A-Z]{2,3}\d|^N\d{3}[A-Z]{3}|^M\d{3}NW|^CLAA|^NE\d{3}", re.I)
INTERNAL_CONNECTORS = re.compile(r"^(?:eDP|LVDS|DSI|DPI|internal)", re.I)
# Native modes of HD-ready TVs; a monitor of 60 cm and more is not built around them.
TV_MODES = {(1366, 768), (1360, 768), (1280, 720), (1920, 540), (720, 576), (720, 480)}


def _label(e: Edid) -> str:
    """``'EPSON PJ' from Seiko Epson (SEC)``: how a reason names the display."""
    maker = maker_name(e.pnp_id) or e.manufacturer_hint
    who = (f"{maker} ({e.pnp_id})" if maker and e.pnp_id
           else maker or (f"PNP id {e.pnp_id}" if e.pnp_id else ""))
    if e.name:
        return f"'{e.name}' from {who}" if who else f"'{e.name}'"
    return who or "an unidentified display"


def _size(e: Edid) -> str:
    if _token_size(e):
        return f"{e.width_cm}\u00d7{e.height_cm} cm, an aspect ratio rather than a size"
    if e.width_cm and e.height_cm:
        diag = f", {e.diagonal_in:g}\u2033" if e.diagonal_in else ""
        return f"{e.width_cm}\u00d7{e.height_cm} cm{diag}"
    if e.aspect_only:
        return "no image size (an aspect ratio only)"
    return "size 0\u00d70 (undefined)" if e.size_undefined else "no size read"


def _names(e: Edid) -> list[str]:
    return [n for n in (e.name, *e.alnum_strings) if n]


def by_connector(e: Edid, connector: str | None) -> Verdict | None:
    """An internal connector (eDP, LVDS, DSI, Windows' embedded or internal) is the laptop's own panel."""
    if connector and INTERNAL_CONNECTORS.match(connector):
        via = ("the OS reports it built in" if connector == "internal"
               else f"on {connector}, an internal connector")
        return "internal_panel", f"{via}; {_size(e)}, {_label(e)}"
    return None


def by_av_chain(e: Edid, connector: str | None) -> Verdict | None:
    """AV switchers, scalers, splitters, KVMs, receivers and capture devices hide the display behind them."""
    name = e.name or ""
    if HEADSET_NAME.search(name) or e.pnp_id in HEADSET_PNP:
        return "unknown", f"a VR headset ({_label(e)}), not a classroom display"
    if AV_NAME.search(name) or e.pnp_id in AV_PNP:
        return "unknown", (f"EDID of AV equipment ({_label(e)}): a switcher, scaler, splitter or receiver "
                           "stands between the computer and the display, which is not visible")
    if e.pnp_id in CHIP_PNP and not PROJECTOR_NAME.search(name) and not TV_NAME.search(name):
        return "unknown", (f"EDID made by a video chip ({_label(e)}), as adapters, splitters and extenders "
                           "carry: the display behind it is not visible")
    return None


def by_projector_name(e: Edid, connector: str | None) -> Verdict | None:
    """The name says projector (``EPSON PJ``, ``LG PROJECTOR``, ``Optoma WXGA``, ``NP-M311X``, ``PT-LB80``).

    Also a BenQ, Acer, ViewSonic or Dell name shaped like that maker's projector models, on an EDID
    whose size is no monitor's.
    """
    if e.name and PROJECTOR_NAME.search(e.name):
        return "projector", f"name '{e.name}' is a projector's ({_label(e)}); {_size(e)}"
    # 0xFE strings hold laptop panels' part numbers: only the plain words count there.
    for n in e.alnum_strings if not e.name else ():
        if re.search(r"PROJECTOR|(?:^|\s)PJ(?:$|\s)", n, re.I):
            return "projector", f"string '{n}' says projector ({_label(e)}); {_size(e)}"
    if (e.pnp_id in {"BNQ"} and e.name and re.match(r"^(?:BENQ )?R[PME]\d{3,4}", e.name, re.I)
            and not _small(e)):
        return None  # BenQ's RP/RM/RE interactive panels: left to by_interactive
    pattern = PROJECTOR_MODEL.get(e.pnp_id or "")
    no_monitor_size = e.size_undefined or e.aspect_only or _token_size(e) or (e.width_cm or 0) >= 95
    if (pattern and e.name and pattern.match(e.name) and no_monitor_size
            and not INTERACTIVE_NAME.search(e.name)):
        return "projector", (f"'{e.name}' is shaped like {maker_name(e.pnp_id)}'s projector models, "
                             f"and {_size(e)} is no monitor's")
    return None


def by_projector_maker(e: Edid, connector: str | None) -> Verdict | None:
    """A maker that makes only projectors, or a projector maker's EDID with no image size."""
    if e.pnp_id in PROJECTOR_ONLY_PNP and not INTERACTIVE_NAME.search(e.name or ""):
        return "projector", f"{maker_name(e.pnp_id)} ({e.pnp_id}) makes only projectors; {_size(e)}"
    undefined = (e.size_undefined or e.aspect_only or _token_size(e)
                 or (e.cta is not None and e.cta.image_size_meaning == "aspect_ratio"))
    if (undefined and e.pnp_id in PROJECTOR_MAKERS and not TV_NAME.search(e.name or "")
            and not (e.pnp_id in MONITOR_MODEL and MONITOR_MODEL[e.pnp_id].match(e.name or ""))):
        return "projector", (f"EDID image size undefined ({_size(e)}) and maker {maker_name(e.pnp_id)} "
                             f"({e.pnp_id}) makes projectors; name {e.name!r}")
    return None


def by_interactive(e: Edid, connector: str | None) -> Verdict | None:
    """Interactive flat panels by name (SBID-, ActivPanel, BenQ RP, IFP, Newline...) or by maker."""
    name = e.name or ""
    if INTERACTIVE_NAME.search(name) and not TV_NAME.search(name) and not _small(e):
        return "interactive_display", f"name '{name}' is an interactive display's ({_label(e)}); {_size(e)}"
    if e.pnp_id == "BNQ" and re.match(r"^(?:BENQ )?R[PME]\d{3,4}", name, re.I) and not _small(e):
        return "interactive_display", f"'{name}' is a BenQ education panel model (RP/RM/RE); {_size(e)}"
    if e.pnp_id in INTERACTIVE_PNP and ((e.width_cm or 0) >= 90 or e.size_undefined):
        return "interactive_display", (f"{maker_name(e.pnp_id)} ({e.pnp_id}) makes classroom interactive "
                                       f"displays; {_size(e)}")
    if e.pnp_id in LARGE_INTERACTIVE_PNP and (e.width_cm or 0) >= 100:
        return "interactive_display", (f"a large-format panel ({_size(e)}) from {maker_name(e.pnp_id)}, "
                                       "whose "
                                       "large panels are mostly interactive (could be signage)")
    return None


def by_tv(e: Edid, connector: str | None) -> Verdict | None:
    """The name says TV; a TV maker's bare name on a large panel; an HD-ready native mode on a large one."""
    name = e.name or ""
    if TV_NAME.search(name):
        return "tv", f"name '{name}' is a TV's ({_label(e)}); {_size(e)}"
    # A bare maker's name is a TV's way (Samsung's TVs say "SAMSUNG"; its monitors give a model).
    large = (e.width_cm or 0) >= 60 or bool(e.size_undefined) or _token_size(e)
    if TV_MAKER_WORD.match(name) and large:
        return "tv", f"named only '{name}', as that maker's TVs are, and {_size(e)}"
    p = e.preferred
    if p and (p.width_px, p.height_px) in TV_MODES and (e.width_cm or 0) >= 60:
        return "tv", (f"native mode {p.width_px}\u00d7{p.height_px} (an HD-ready TV's) on a large panel "
                      f"({_size(e)}); {_label(e)}")
    if e.cta and e.cta.audio_formats and (e.width_cm or 0) >= 60 and e.pnp_id in TV_PNP:
        return "tv", (f"home-cinema audio ({', '.join(e.cta.audio_formats)}) on a {_size(e)} panel from "
                      f"{maker_name(e.pnp_id)}")
    return None


def by_panel(e: Edid, connector: str | None) -> Verdict | None:
    """A laptop panel: small, and a panel maker's id or a panel's part number, or unnamed with eDP."""
    w = e.width_cm or 0
    if not 15 <= w <= 45:
        return None
    names = _names(e)
    panel_words = re.compile(r"^(?:COLOR LCD|INTERNAL|BUILT-?IN)", re.I)
    if any(panel_words.search(n) for n in names) or (
            any(PANEL_NAME.search(n) for n in names) and not e.serial_string):
        return "internal_panel", f"{_size(e)} and a laptop panel's name ({', '.join(names)}); {_label(e)}"
    if e.pnp_id in PANEL_PNP and not e.serial_string and not (e.name and e.has_range_limits):
        return "internal_panel", f"{_size(e)} from panel maker {maker_name(e.pnp_id)} ({e.pnp_id})"
    if not e.name and not e.serial_string and (e.interface == "DisplayPort" or not e.has_range_limits):
        return "internal_panel", (f"{_size(e)}, no name, no serial string"
                                  + (", eDP-style DisplayPort interface" if e.interface else
                                     ", no range limits") + f": a laptop panel; {_label(e)}")
    return None


def by_size(e: Edid, connector: str | None) -> Verdict | None:
    """Monitors are 25-95 cm wide; larger panels are TVs or interactive displays, which EDID cannot split."""
    w, h = e.width_cm or 0, e.height_cm or 0
    if not w and not e.size_undefined and e.name and MONITOR_MAKER_MODEL.match(e.name):
        return "monitor", f"named like a monitor model ({_label(e)}); no size known"
    if w >= 95 and h and w / h >= 2.2:
        return "monitor", f"{_size(e)}: a super-ultrawide (32:9) monitor, {_label(e)}"
    if 25 <= w < 95 and (e.name or e.serial_string or e.has_range_limits):
        return "monitor", f"{_size(e)}, a monitor's size, {_label(e)}"
    if w >= 95:
        if e.pnp_id in TV_PNP:
            return "tv", f"a large panel ({_size(e)}) from TV maker {maker_name(e.pnp_id)} ({e.pnp_id})"
        return "unknown", (f"a large panel ({_size(e)}), {_label(e)}: a TV or an interactive display "
                           "(touch is on USB, not in the EDID)")
    return None


def _token_size(e: Edid) -> bool:
    """A "size" under 10 cm (1x1) or exactly an aspect ratio (16x9, 16x10, 4x3): not a size."""
    return 0 < (e.width_cm or 0) < 10 or (e.width_cm, e.height_cm) in ((16, 9), (16, 10), (4, 3), (5, 4))


def _small(e: Edid) -> bool:
    return 10 <= (e.width_cm or 0) < 60


RULES: tuple[Callable[[Edid, str | None], Verdict | None], ...] = (
    by_connector, by_av_chain, by_projector_name, by_projector_maker, by_interactive, by_tv, by_panel,
    by_size)


def classify(e: Edid, connector: str | None = None) -> Verdict:
    """(kind, reason) for a decoded EDID and the connector the OS names (``eDP-1``, ``HDMI``), if any."""
    for rule in RULES:
        verdict = rule(e, connector)
        if verdict is not None:
            return verdict
    if e.size_undefined or e.aspect_only:
        return "unknown", (f"{_label(e)}: {_size(e)} and no name that tells — a projector, a TV or AV "
                           "equipment")
    if not e.raw and not e.pnp_id and not e.name:
        return "unknown", "no EDID and no identity read: nothing tells its kind"
    return "unknown", f"{_label(e)}, {_size(e)}: no signal tells its kind"
