"""A small school LAN in network namespaces, built for the LAN, services and filtering tests.

Two namespaces joined by a veth pair: the *client* (where the probe runs, its
default route through the gateway) and the *gateway*, which answers ICMP and
runs dnsmasq and the HTTP/HTTPS test servers (tests/lan_servers.py). Names
carry the pid so that concurrent test runs on one machine do not collide, and
everything is torn down in ``finally``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
GW_IP, CLIENT_IP = "10.231.0.1", "10.231.0.2"
GW_MAC = "00:26:ab:10:20:30"  # an Epson OUI: the ARP scan should name the vendor

# What the gateway's dnsmasq answers (blocked.test: NXDOMAIN, as a DNS filter does).
DNS_NAMES = ("good.test", "expired.test", "wrongname.test", "blockpage.test", "portal.test",
             "forbidden.test", "detect.test")


def netns_skip_reason() -> str | None:
    """Why namespace tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    for tool in ("ip", "dnsmasq", "iptables"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, check=False)
    if probe.returncode != 0:
        return "ip netns is unavailable: " + probe.stderr.decode(errors="replace").strip()
    return None


def _sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, timeout=30)


def make_certs(out: Path, now: dt.datetime) -> Path:
    """A test CA and its leaf certificates, one file per SNI name the server answers.

    ``good.test`` is valid; ``expired.test`` ended yesterday; ``wrongname.test``
    is served a certificate for ``other.test``; ``blockpage.test`` is valid.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("Socle test CA")).issuer_name(name("Socle test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=30)).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    (out / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    leaves = {  # SNI name -> (name in the certificate, not before, not after)
        "good.test": ("good.test", now - dt.timedelta(days=1), now + dt.timedelta(days=20)),
        "expired.test": ("expired.test", now - dt.timedelta(days=20), now - dt.timedelta(days=1)),
        "wrongname.test": ("other.test", now - dt.timedelta(days=1), now + dt.timedelta(days=20)),
        "blockpage.test": ("blockpage.test", now - dt.timedelta(days=1), now + dt.timedelta(days=20)),
    }
    for sni, (cn, start, end) in leaves.items():
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(ca.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        (out / f"{sni}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (out / f"{sni}.key").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return out / "ca.pem"


@dataclass
class LanNet:
    """The built LAN: namespace names, addresses, and a work directory anyone can read."""

    client: str
    gateway: str
    gw_veth: str
    workdir: Path
    ca_file: Path

    def in_gateway(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a command in the gateway namespace."""
        return _sh("ip", "netns", "exec", self.gateway, *argv, check=check)

    def probe(self, name: str, settings_toml: str, *, as_nobody: bool = False,
              timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """``socle-agent probe NAME --json`` in the client namespace, as root or as nobody."""
        config = self.workdir / f"agent-{name}-{time.monotonic_ns()}.toml"
        config.write_text(settings_toml)
        config.chmod(0o644)
        state = Path(tempfile.mkdtemp(dir=self.workdir))
        state.chmod(0o777)
        argv = ["ip", "netns", "exec", self.client]
        if as_nobody:
            argv += ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                     "--inh-caps=-all", "--bounding-set=-all"]
        argv += [str(BIN / "socle-agent"), "probe", name, "--json", "--config", str(config),
                 "--state-dir", str(state)]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(state),
               "LANG": "C.UTF-8"}
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                              check=False)


@contextmanager
def lan_net() -> Iterator[LanNet]:
    """Build the LAN, yield it, always tear it down."""
    reason = netns_skip_reason()
    if reason:
        pytest.skip(reason)
    pid = os.getpid()
    client, gateway = f"soclelan{pid}c", f"soclelan{pid}g"
    c_if, g_if = f"slc{pid}"[:15], f"slg{pid}"[:15]
    workdir = Path(tempfile.mkdtemp(prefix=f"socle-lan-{pid}-"))
    workdir.chmod(0o755)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        _sh("ip", "netns", "add", client)
        _sh("ip", "netns", "add", gateway)
        _sh("ip", "link", "add", c_if, "type", "veth", "peer", "name", g_if)
        _sh("ip", "link", "set", c_if, "netns", client)
        _sh("ip", "link", "set", g_if, "netns", gateway)
        for ns, ifname, addr in ((client, c_if, CLIENT_IP), (gateway, g_if, GW_IP)):
            _sh("ip", "-n", ns, "link", "set", "lo", "up")
            _sh("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", ifname)
            _sh("ip", "-n", ns, "link", "set", ifname, "up")
        _sh("ip", "-n", gateway, "link", "set", g_if, "address", GW_MAC)
        _sh("ip", "-n", client, "route", "add", "default", "via", GW_IP)
        ca = make_certs(workdir, dt.datetime.now(dt.UTC))
        for f in workdir.iterdir():
            f.chmod(0o644)
        dns = ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
               f"--listen-address={GW_IP}", "--bind-interfaces", "--port=53",
               f"--pid-file={workdir / 'dnsmasq.pid'}", "--address=/blocked.test/",
               "--address=/sinkhole.test/0.0.0.0"]
        dns += [f"--address=/{n}/{GW_IP}" for n in DNS_NAMES]
        procs.append(subprocess.Popen(["ip", "netns", "exec", gateway, *dns],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        web = subprocess.Popen(["ip", "netns", "exec", gateway, sys.executable,
                                str(HERE / "lan_servers.py"), str(workdir), GW_IP],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        procs.append(web)
        assert web.stdout is not None
        if web.stdout.readline().strip() != b"ready":
            raise RuntimeError("test web server did not start: " + web.stderr.read(2000).decode())  # type: ignore[union-attr]
        _wait_for_dns(gateway)
        yield LanNet(client=client, gateway=gateway, gw_veth=g_if, workdir=workdir, ca_file=ca)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        for ns in (client, gateway):
            _sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_for_dns(gateway: str) -> None:
    for _ in range(50):
        out = _sh("ip", "netns", "exec", gateway, "ss", "-lun", check=False).stdout
        if f"{GW_IP}:53" in out:
            return
        time.sleep(0.1)
    raise RuntimeError("dnsmasq did not start listening")
