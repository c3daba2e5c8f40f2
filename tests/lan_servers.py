"""Test servers for the LAN, services and filtering probes, run inside a namespace.

``python tests/lan_servers.py CERT_DIR ADDRESS`` serves HTTPS on 443 and HTTP on
80 at ADDRESS until killed. The TLS certificate is chosen by SNI (files
``CERT_DIR/<name>.pem`` with key ``CERT_DIR/<name>.key``), so one server plays
a valid, an expired and a wrong-name site. By Host header:

- ``blockpage.test``: 200 with the filter's block page ("Accès refusé par le filtre");
- ``portal.test``: 302 to a login page, as a captive portal does;
- ``forbidden.test``: 403;
- anything else: 200 with the text ``success``.
"""

from __future__ import annotations

import http.server
import ssl
import sys
import threading
from pathlib import Path


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers by Host header (see the module docstring)."""

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0]
        if host == "portal.test":
            self.send_response(302)
            self.send_header("Location", "http://portal.test/login")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, body = 200, b"success\n"
        if host == "blockpage.test":
            body = "<h1>Accès refusé par le filtre</h1>".encode()
        elif host == "forbidden.test":
            status, body = 403, b"forbidden\n"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def tls_context(cert_dir: Path) -> ssl.SSLContext:
    """A server context whose certificate follows the client's SNI name."""
    contexts = {}
    for pem in cert_dir.glob("*.pem"):
        if pem.stem == "ca":
            continue
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        c.load_cert_chain(pem, pem.with_suffix(".key"))
        contexts[pem.stem] = c
    default = contexts["good.test"]

    def pick(sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        sock.context = contexts.get(name or "", default)

    default.sni_callback = pick
    return default


def main() -> None:
    cert_dir, address = Path(sys.argv[1]), sys.argv[2]
    plain = http.server.ThreadingHTTPServer((address, 80), Handler)
    tls = http.server.ThreadingHTTPServer((address, 443), Handler)
    tls.socket = tls_context(cert_dir).wrap_socket(tls.socket, server_side=True)
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    print("ready", flush=True)
    tls.serve_forever()


if __name__ == "__main__":
    main()
