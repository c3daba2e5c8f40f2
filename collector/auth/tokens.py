"""Secrets: made with ``secrets``, kept only as SHA-256 hashes, looked up by their hash.

A token is found by the hash of what the caller sent (an index lookup), never
by comparing the secret itself: nothing here compares secrets, so nothing leaks
their content through timing.
"""

from __future__ import annotations

import hashlib
import secrets

AGENT_PREFIX = "sa_"
API_PREFIX = "st_"


def new_secret(prefix: str) -> str:
    """A new random token (256 bits) with a prefix that says what it is for."""
    return prefix + secrets.token_urlsafe(32)


def new_enroll_code() -> str:
    """A one-time enrolment code a technician can type: 4 groups of 4 letters and digits."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalise_code(code: str) -> str:
    """Enrolment codes are read case- and dash-insensitively."""
    return code.strip().upper().replace("-", "").replace(" ", "")


def hash_secret(secret: str) -> str:
    """The stored form of a secret (tokens are random, so a plain hash is enough)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()

