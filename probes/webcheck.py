"""One web request taken step by step (DNS, TCP, TLS, HTTP), each step timed.

Shared by the services probe (F4) and the filtering probe (F1), and the DNS
step by the LAN probe. A step that fails is named, with its reason; nothing
raises. The resolver is the system's (``getaddrinfo``) unless a DNS server is
given, which is then asked directly (dnspython), so a technician can test the
school's resolver and tests can point at their own.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from config.compat import UTC

_BODY_LIMIT = 64 * 1024
# Addresses a DNS filter answers with instead of refusing (a "sinkhole").
_SINKHOLES = ("0.0.0.0/32", "::/128", "127.0.0.0/8", "::1/128")


@dataclass
class Resolution:
    """What a name resolved to, how long it took, or why it did not."""

    addresses: list[str] = field(default_factory=list)
    ms: float | None = None
    error: str | None = None


def resolve(name: str, dns_server: str | None, timeout: float,
            monotonic: Callable[[], float]) -> Resolution:
    """Resolve ``name`` (A, then AAAA) through ``dns_server`` or the system resolver."""
    start = monotonic()
    if dns_server is None:
        try:
            infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            return Resolution(ms=_ms(start, monotonic), error=f"resolver: {exc.strerror}")
        addrs = list(dict.fromkeys(str(info[4][0]) for info in infos))
        return Resolution(addresses=addrs, ms=_ms(start, monotonic))
    import dns.exception
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [dns_server]
    resolver.lifetime = timeout
    addrs = []
    try:
        for rdtype in ("A", "AAAA"):
            try:
                addrs = [r.to_text() for r in resolver.resolve(name, rdtype)]
            except dns.resolver.NoAnswer:
                continue
            break
    except dns.resolver.NXDOMAIN:
        return Resolution(ms=_ms(start, monotonic), error="dns: NXDOMAIN (no such name)")
    except dns.resolver.NoNameservers as exc:
        return Resolution(ms=_ms(start, monotonic), error=f"dns: server refused or failed ({exc})"[:200])
    except dns.exception.Timeout:
        return Resolution(error=f"dns: no answer from {dns_server} within {timeout:g} s")
    if not addrs:
        return Resolution(ms=_ms(start, monotonic), error="dns: no address for this name")
    return Resolution(addresses=addrs, ms=_ms(start, monotonic))


def is_sinkhole(address: str) -> bool:
    """Whether an answer is a DNS filter's "nowhere" address (0.0.0.0, ::, loopback)."""
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(net) for net in _SINKHOLES if ip.version ==
               ipaddress.ip_network(net).version)


def _ms(start: float, monotonic: Callable[[], float]) -> float:
    return round((monotonic() - start) * 1000.0, 3)


@dataclass
class WebResult:
    """A request's steps: what each took, where it stopped and why."""

    url: str
    address: str | None = None
    dns_ms: float | None = None
    tcp_ms: float | None = None
    tls_ms: float | None = None
    total_ms: float | None = None
    http_status: int | None = None
    location: str | None = None
    body: str = ""
    cert_valid: bool | None = None
    cert_not_after: datetime | None = None
    failed_step: str | None = None  # "dns", "tcp", "tls" or "http"
    error: str | None = None
    sinkhole: bool = False
    timed_out: bool = False


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """The system's trust store, plus ``ca_file`` when given (a school proxy's CA)."""
    ctx = ssl.create_default_context()
    if ca_file is not None:
        ctx.load_verify_locations(cafile=str(ca_file))
    return ctx


def fetch(url: str, *, dns_server: str | None, ca_file: Path | None, timeout: float,
          monotonic: Callable[[], float]) -> WebResult:
    """GET ``url`` once, timing DNS, TCP connect, TLS handshake and the HTTP answer."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    out = WebResult(url=url)
    start = monotonic()
    literal = True
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        literal = host == "localhost"
        res = resolve(host, dns_server, timeout, monotonic)
        out.dns_ms = res.ms
        if res.error:
            out.failed_step, out.error = "dns", res.error
            out.timed_out = res.ms is None
            return out
        addresses = res.addresses
    out.address = addresses[0]
    if not literal and is_sinkhole(out.address):
        out.sinkhole = True
        out.failed_step, out.error = "dns", f"dns: answered {out.address}, a filter's sinkhole"
        return out
    t = monotonic()
    try:
        sock = socket.create_connection((out.address, port), timeout=timeout)
    except TimeoutError:
        out.failed_step, out.error, out.timed_out = "tcp", f"tcp: no answer within {timeout:g} s", True
        return out
    except OSError as exc:
        out.failed_step, out.error = "tcp", f"tcp: {exc.strerror or exc}"
        return out
    out.tcp_ms = _ms(t, monotonic)
    try:
        if https:
            t = monotonic()
            try:
                sock = tls_context(ca_file).wrap_socket(sock, server_hostname=host)
            except ssl.SSLCertVerificationError as exc:
                out.cert_valid = False
                out.failed_step, out.error = "tls", f"tls: {exc.verify_message or exc.reason}"
                return out
            except (ssl.SSLError, OSError) as exc:
                out.failed_step, out.error = "tls", f"tls: {getattr(exc, 'reason', None) or exc}"
                out.timed_out = isinstance(exc, TimeoutError)
                return out
            out.tls_ms = _ms(t, monotonic)
            out.cert_valid = True
            not_after = (sock.getpeercert() or {}).get("notAfter")
            if isinstance(not_after, str):
                out.cert_not_after = datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC)
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.sock = sock  # already connected (and wrapped): http.client sends on it as is
        try:
            target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
            conn.request("GET", target,
                         headers={"User-Agent": "socle-agent", "Connection": "close"})
            resp = conn.getresponse()
            out.http_status = resp.status
            out.total_ms = _ms(start, monotonic)
            out.location = resp.getheader("Location")
            out.body = resp.read(_BODY_LIMIT).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            out.failed_step, out.error = "http", f"http: {type(exc).__name__}: {exc}"[:300]
            out.timed_out = isinstance(exc, TimeoutError)
    finally:
        sock.close()
    return out
