"""The webhook signature and the e-mail text, as values; the verification recipe of docs/deployment.md
checks what the collector signs."""

from __future__ import annotations

import re
import time
from typing import Any

from collector.alerts.messages import body_of, email_of, signature, verify
from tests.conftest import ROOT

CHANGE = {"uai": "0350122T", "name": "Les Lucioles", "commune": "Baulon", "departement": "035",
          "at": "2026-10-14T03:00:12+00:00", "was": "base", "became": "not_ready", "cause": "data",
          "rules": [{"rule_id": "A2-download-base", "was": "pass", "became": "fail"}]}


def test_the_documented_recipe_verifies_the_signature() -> None:
    doc = (ROOT / "docs" / "deployment.md").read_text()
    recipe = re.search(r"\*\*Checking the signature\.\*\*.*?```python\n(.*?)```", doc, re.S)
    assert recipe is not None
    space: dict[str, Any] = {}
    exec(recipe.group(1), space)  # the docs' own code, run as a reader would
    body = body_of(42, "changes", "2026-10-14T03:05:00+00:00", {"id": 2, "scope": "all", "label": None},
                   [CHANGE])
    header = signature("s3cret", int(time.time()), body)
    assert space["verified"]("s3cret", header, body)
    assert not space["verified"]("other", header, body)
    assert not space["verified"]("s3cret", header, body.replace(b"not_ready", b"base"))
    old = signature("s3cret", int(time.time()) - 3600, body)
    assert verify("s3cret", old, body) and not space["verified"]("s3cret", old, body)  # a replay


def test_signature_is_hmac_sha256_of_time_dot_body() -> None:
    assert signature("key", 1700000000, b"{}") == \
        "t=1700000000,sha256=" + __import__("hmac").new(b"key", b"1700000000.{}", "sha256").hexdigest()
    assert not verify("key", "garbage", b"{}") and not verify("key", "t=x,sha256=00", b"{}")


def test_the_email_lists_every_change_with_its_rules() -> None:
    back = {**CHANGE, "uai": "0350127Y", "name": "Autre école", "commune": "Bruz", "was": "not_ready",
            "became": "base", "rules": []}
    silent = {**CHANGE, "uai": "0290001X", "name": "École de Brest", "commune": "Brest", "was": "base",
              "became": "no_data", "cause": "silent", "rules": []}
    msg = email_of(7, "changes", "socle@ac-rennes.fr", "dsi@ac-rennes.fr", "ac-rennes.fr",
                   [CHANGE, back, silent])
    assert msg["Subject"] == ("Socle : Changements de niveau, 3 école(s) (1 sous le socle, "
                              "1 de retour au socle, 1 sans données)")
    assert msg["Message-ID"] == "<socle-alert-7@ac-rennes.fr>"
    assert msg.get_content().splitlines()[2:6] == [
        "- Les Lucioles (0350122T, Baulon) : socle atteint → non prête (sous le socle), "
        "le 2026-10-14 03:00 UTC (les mesures ont changé)",
        "    A2-download-base : respectée → non respectée",
        "- Autre école (0350127Y, Bruz) : non prête (sous le socle) → socle atteint, le 2026-10-14 03:00 UTC "
        "(les mesures ont changé)",
        "- École de Brest (0290001X, Brest) : socle atteint → sans données, le 2026-10-14 03:00 UTC "
        "(plus de données reçues)"]
