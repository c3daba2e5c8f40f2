"""Hostile input, held against SQLite and PostgreSQL at once: arbitrary strings and numbers sent to the
report endpoint, written into a directory file, or typed on the command line. Never a server error,
never a traceback, and the same outcome on both databases."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from collector.cli.main import main as collector_main
from collector.db.engine import session_factory
from collector.schools.directory import DirectoryError
from collector.schools.importing import import_directory
from config.collector_settings import CollectorSettings
from tests.collector_db import NOW, Harness, auth, report_body

pytestmark = pytest.mark.postgres
EXAMPLES = 60
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))

# Values a hostile sender puts anywhere: any text (NUL, escapes, surrogates, 10 kB), extreme numbers.
TEXT = st.one_of(st.text(max_size=40), st.sampled_from(["\x00", "CM1\x00", "\x1b[2J", "\ud800", "x" * 10_000,
                                                        "=cmd|' /C calc'!A0", "'; DROP TABLE reports; --"]))
NUMBER = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False),
                   st.sampled_from([1.7e308, -1.7e308, 1e12, 2**63, -(2**63) - 1, 0, -0.0, 5e-324]))
VALUE = st.one_of(TEXT, NUMBER, st.none(), st.booleans(), st.lists(TEXT, max_size=3),
                  st.dictionaries(TEXT, TEXT, max_size=2))


@pytest.fixture(scope="module")
def pair(both_engines: tuple[Engine, Engine]) -> list[tuple[Harness, str]]:
    """A collector app on each database, each with an enrolled agent."""
    out = []
    for engine in both_engines:
        harness = Harness(engine, CollectorSettings(rate_limit_per_minute=0, auth_failures_per_minute=0))
        out.append((harness, harness.enroll()))
    return out


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document a value can be put."""
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _put(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return doc


BODY = report_body()
PATHS = [p for p in _paths(BODY) if p and p[0] != "report_id"]


def _answer(harness: Harness, token: str, body: Any) -> tuple[int, Any]:
    resp = harness.client.post("/api/v1/reports", content=json.dumps(body, allow_nan=True),
                               headers={**auth(token), "content-type": "application/json"})
    detail = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else resp.text
    if isinstance(detail, dict):
        detail.pop("report_id", None)
    return resp.status_code, detail


@SETTINGS
@given(where=st.sampled_from(PATHS), value=VALUE)
def test_any_value_anywhere_in_a_report_is_answered_alike_and_never_a_500(
        pair: list[tuple[Harness, str]], where: tuple[Any, ...], value: Any) -> None:
    body = _put(copy.deepcopy(BODY), where, value)
    if isinstance(body, dict):
        body["report_id"] = str(uuid.uuid4())
    answers = [_answer(harness, token, body) for harness, token in pair]
    assert all(status < 500 for status, _ in answers), (where, value, answers)
    assert answers[0] == answers[1], (where, value)


HEADER = ("Identifiant_de_l_etablissement;Nom_etablissement;Type_etablissement;Statut_public_prive;"
          "Code_commune;Nom_commune;Code_departement;Libelle_academie;Nombre_d_eleves;Mail;latitude;longitude;"
          "etat;nom_circonscription")


@SETTINGS
@given(cells=st.lists(st.tuples(*[st.one_of(TEXT.filter(lambda s: ";" not in s and "\n" not in s
                                                         and "\r" not in s and '"' not in s),
                                             st.sampled_from(["0350122T", "Ecole", "35016", "OUVERT", "143"]))
                                   for _ in range(14)]), min_size=1, max_size=4))
def test_any_directory_file_imports_the_same_on_both_and_never_crashes(
        both_engines: tuple[Engine, Engine], tmp_path_factory: pytest.TempPathFactory,
        cells: list[tuple[str, ...]]) -> None:
    path = tmp_path_factory.mktemp("dir") / "annuaire.csv"
    path.write_text(HEADER + "\n" + "\n".join(";".join(row) for row in cells) + "\n", encoding="utf-8",
                    errors="surrogatepass")
    outcomes = []
    for engine in both_engines:
        with session_factory(engine)() as session:
            try:
                result = import_directory(session, path, NOW)
                session.rollback()  # every example starts from the same schools
                outcomes.append((result.summary(), [(p.line, p.message) for p in result.errors]))
            except (DirectoryError, UnicodeError) as exc:
                outcomes.append((type(exc).__name__, str(exc)))
    assert outcomes[0] == outcomes[1], cells


@SETTINGS
@given(name=TEXT, commune=TEXT, pupils=st.one_of(TEXT, st.integers(-(2**40), 2**40).map(str)))
def test_any_school_typed_on_the_command_line_is_one_line_or_stored_alike(
        both_engines: tuple[Engine, Engine], name: str, commune: str, pupils: str) -> None:
    outcomes = []
    for engine in both_engines:
        url = engine.url.render_as_string(hide_password=False)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = collector_main(["--db", url, "school", "add", "0350122T", "--name", name, "--commune",
                                       commune, "--pupils", pupils])
            except SystemExit as exit_:  # argparse refusing an option: its usage line, exit 2
                code = int(exit_.code or 0)
        text = err.getvalue()
        assert "Traceback" not in text, text
        assert code in (0, 2), (code, text)
        outcomes.append((code, text.replace(url, "URL")))
    assert outcomes[0] == outcomes[1], (name, commune, pupils)


def test_fixtures_in_this_file_need_both_databases(both_engines: tuple[Engine, Engine]) -> None:
    assert {e.dialect.name for e in both_engines} == {"sqlite", "postgresql"}

