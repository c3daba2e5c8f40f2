"""Run M-Lab's ndt7-js client in headless Chromium against an ndt7 server; print its outcome as JSON.

    python -m tests.interop.mlab_driver HOST:PORT [--timeout 60]

Meant to run inside a network namespace (``ip netns exec NS python -m ...``): it
serves ``mlab_page.html`` and the vendored client (``ndt7js/``) from a static
server on this namespace's loopback, opens the page in Debian's chromium
(through Playwright), waits for ``ndt7.test()`` to finish and prints what the
page collected plus the figures :func:`figures` derives from it.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("SOCLE_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def _rate(msg: dict[str, Any] | None, section: str, count: str) -> float | None:
    """Mbit/s from a measurement section's byte count over its ElapsedTime (µs)."""
    part = (msg or {}).get(section) or {}
    if not part.get(count) or not part.get("ElapsedTime"):
        return None
    return float(part[count]) * 8 / float(part["ElapsedTime"])


def figures(result: dict[str, Any]) -> dict[str, float | None]:
    """The figures M-Lab's client gives for each subtest (Mbit/s).

    - ``download_client_mbps``: the client's own ``MeanClientMbps`` (bytes of every
      message received / time since the socket opened, ramp-up included) — the
      figure M-Lab's speed test shows for the download;
    - ``upload_server_mbps``: the server's last ``TCPInfo.BytesReceived`` over its
      ``ElapsedTime`` — the figure M-Lab's speed test shows for the upload;
    - ``download_server_mbps`` / ``upload_client_mbps``: the other side's view, for
      the record (the client's upload count is what left its WebSocket buffer, so
      it includes what still sits in the kernel's send buffer).
    """
    down, up = result.get("download") or {}, result.get("upload") or {}
    up_server = up.get("LastServerMeasurement")
    return {
        "download_client_mbps": (down.get("LastClientMeasurement") or {}).get("MeanClientMbps"),
        "download_server_mbps": _rate(down.get("LastServerMeasurement"), "AppInfo", "NumBytes"),
        "upload_server_mbps": (_rate(up_server, "TCPInfo", "BytesReceived")
                               or _rate(up_server, "AppInfo", "NumBytes")),
        "upload_client_mbps": (up.get("LastClientMeasurement") or {}).get("MeanClientMbps"),
    }


def _static_server() -> http.server.ThreadingHTTPServer:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(HERE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def run(server: str, timeout_s: float) -> dict[str, Any]:
    """Load the page against ``server`` (host:port) and return what it collected."""
    from playwright.sync_api import sync_playwright

    httpd = _static_server()
    console: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
            try:
                page = browser.new_page()
                page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
                page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
                port = httpd.server_address[1]
                page.goto(f"http://127.0.0.1:{port}/mlab_page.html?server={server}")
                page.wait_for_function("window.ndt7Result !== null", timeout=timeout_s * 1000)
                result: dict[str, Any] = page.evaluate("window.ndt7Result")
                result["user_agent"] = page.evaluate("navigator.userAgent")
            finally:
                browser.close()
    finally:
        httpd.shutdown()
    result["console"] = console[-20:]
    result["figures"] = figures(result)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("server", help="the ndt7 server as HOST:PORT (plain ws://)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for both subtests")
    args = ap.parse_args()
    print(json.dumps(run(args.server, args.timeout)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
