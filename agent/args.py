"""Argument types of ``socle-agent``'s command line: a value that cannot be right is a usage error
(exit 2) that says what is wrong and what was probably meant, before anything is tried."""

from __future__ import annotations

import argparse
import ipaddress
from urllib.parse import urlsplit

from agent.i18n import _


def url_problem(value: str, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    """Why ``value`` is not a usable ``scheme://host[:port][/path]`` URL, or None when it is (pure)."""
    text = value.strip()
    if not text:
        return _("an empty URL")
    if any(c.isspace() for c in text):
        return _("a URL cannot hold spaces")
    if "://" not in text:
        return _("no scheme: write https://{value}").format(value=text)
    parts = urlsplit(text)
    if parts.scheme not in schemes:
        return _("the scheme must be {schemes}, not '{scheme}'").format(schemes=" / ".join(schemes),
                                                                       scheme=parts.scheme)
    try:
        port = parts.port
    except ValueError:
        return _("the port is not a number between 1 and 65535")
    if port == 0:
        return _("the port is not a number between 1 and 65535")
    host = parts.hostname or ""
    if not host:
        return _("no host name after {scheme}://").format(scheme=parts.scheme)
    if parts.query or parts.fragment:
        return _("a base URL has no '?' or '#' part")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        labels = host.split(".")
        if not all(labels) or not all(lbl.replace("-", "").isalnum() for lbl in labels):
            return _("'{host}' is not a host name").format(host=host)
    return None


def url_arg(value: str) -> str:
    """``--collector``'s type: the URL as given, or a usage error with a hint."""
    problem = url_problem(value)
    if problem is not None:
        raise argparse.ArgumentTypeError(
            _("'{value}' is not a collector URL: {problem} (e.g. https://socle.example.fr)").format(
                value=value, problem=problem))
    return value.strip()


def server_arg(value: str) -> str:
    """``probe --server``'s type: an http(s) or ws(s) URL (an ndt7 server), or a usage error."""
    problem = url_problem(value, ("http", "https", "ws", "wss"))
    if problem is not None:
        raise argparse.ArgumentTypeError(
            _("'{value}' is not a server URL: {problem} (e.g. https://socle.example.fr)").format(
                value=value, problem=problem))
    return value.strip()
