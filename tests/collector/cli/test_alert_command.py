"""``socle-collector alert``: add, list, send, log, retry and remove, with a real SMTP server and HTTP
receiver, on both databases; help text and clear refusals."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from collector.cli.main import main
from collector.db.models import ApiToken
from tests.collector.alerts.servers import http_receiver, smtp_server
from tests.collector.alerts.test_alerts import _nights
from tests.collector_db import Harness


def test_alert_commands_end_to_end(engine: Engine, db_url: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    h = Harness(engine)
    h.token("reader")
    with h.sessions() as s:
        token_id = s.scalars(select(ApiToken.token_id)).one()
    with smtp_server() as (box, port), http_receiver() as (hook, url):
        config = tmp_path / "collector.toml"
        config.write_text(f'[alerts.smtp]\nhost = "127.0.0.1"\nport = {port}\nsender = "socle@ac-rennes.fr"\n'
                          'security = "none"\n')
        db = ["--db", db_url, "--config", str(config)]
        assert main([*db, "alert", "add", "--token", token_id, "--scope", "departement:35",
                     "--email", "it-lead@ac-rennes.fr", "--label", "IT lead"]) == 0
        assert "alert subscription 1: email to it-lead@ac-rennes.fr, scope departement:035" in \
            capsys.readouterr().out
        assert main([*db, "alert", "add", "--token", token_id, "--webhook", url, "--digest"]) == 0
        secret = capsys.readouterr().out.strip().splitlines()[-1]
        assert len(secret) >= 40
        assert main([*db, "alert", "list"]) == 0
        listed = capsys.readouterr().out
        assert "email   it-lead@ac-rennes.fr" in listed and "daily digest" in listed and secret not in listed
        _nights(h, lambda k: None, last=3)
        assert main([*db, "alert", "send"]) == 0
        assert capsys.readouterr().out.strip() == "planned 2 message(s); sent 1, not sent 0 " \
                                                  "(socle-collector alert log)"  # the digest waits
        assert len(box.messages) == 1 and hook.calls == []
        assert main([*db, "alert", "log"]) == 0
        log = capsys.readouterr().out
        assert re.search(r"message 1 +sent +email it-lead@ac-rennes.fr: 2 change\(s\)", log)
        assert re.search(r"attempt 1: ok, accepted by 127.0.0.1:\d+", log)
        assert re.search(r"message 2 +pending webhook", log)
        assert main([*db, "alert", "retry", "2"]) == 0  # now, not at the digest hour
        assert capsys.readouterr().out.strip() == "1 message(s) to be delivered again"
        assert main([*db, "alert", "send"]) == 0
        assert len(hook.calls) == 1
        capsys.readouterr()
    assert main([*db, "alert", "remove", "2"]) == 0
    assert "removed alert subscription 2 (webhook" in capsys.readouterr().out
    assert main([*db, "alert", "add", "--token", token_id, "--email", "not-an-address"]) == 2
    assert "'not-an-address' is not an e-mail address" in capsys.readouterr().err
    assert main([*db, "alert", "add", "--token", "nope", "--email", "a@b.fr"]) == 1
    assert "no API token 'nope'" in capsys.readouterr().err
    assert main([*db, "alert", "add", "--token", token_id, "--scope", "commune:Baulon",
                 "--email", "a@b.fr"]) == 2
    assert "ambiguous" in capsys.readouterr().err


def test_alert_help_says_what_alerts_do(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["alert", "add", "--help"])
    out = capsys.readouterr().out
    assert "drops below base" in out and "--digest" in out and "--webhook URL" in out
