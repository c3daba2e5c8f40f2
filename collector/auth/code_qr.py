"""An enrolment code as a QR code of the browser speed-test page, for tablets that cannot run the agent.

The code travels in the address's fragment (``/speedtest#code=…``): a browser never
sends the fragment, so the code is in no access log; the page reads it and fills its
field (collector/static/speedtest.js). segno makes the QR code (pure Python, no
imaging library): as text for a terminal, or as SVG for a page or a printout.
"""

from __future__ import annotations

import io
from urllib.parse import quote

import segno


def speedtest_url(base: str, code: str) -> str:
    """The speed-test page at the collector ``base`` with ``code`` filled in."""
    return f"{base.rstrip('/')}/speedtest#code={quote(code.strip(), safe='-')}"


def _qr(url: str) -> segno.QRCode:
    return segno.make_qr(url, error="m")  # medium error correction: a scratched printout still reads


def qr_terminal(url: str) -> str:
    """The QR code of ``url`` drawn with half-block characters, dark on light, quiet zone included."""
    out = io.StringIO()
    _qr(url).terminal(out=out, compact=True)
    return out.getvalue().rstrip("\n")


def qr_svg(url: str, scale: int = 6) -> str:
    """The QR code of ``url`` as a standalone SVG document, titled with the address."""
    out = io.BytesIO()
    _qr(url).save(out, kind="svg", scale=scale, title=url, xmldecl=False, nl=False)
    return out.getvalue().decode("utf-8")


def qr_svg_inline(url: str, scale: int = 5) -> str:
    """The same as an ``<svg>`` element to put in a page."""
    return str(_qr(url).svg_inline(scale=scale, title=url))
