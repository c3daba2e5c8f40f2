"""Revision 0012 on a database in use: its schools and scopes are kept, commune scopes move to name and
département where that is unambiguous, and an ambiguous one is refused and explained (both databases)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

from collector.auth.access import Action, allowed, scope_problem
from collector.auth.tokens import hash_secret
from collector.db.engine import make_engine
from collector.db.migrations import alembic_config, current_revision, head_revision, upgrade
from collector.db.models import School
from collector.schools.records import school_public

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
# (uai, name, commune, departement, pupils) as an older collector kept them: no commune code.
SCHOOLS = [("0350122T", "Les Lucioles", "Baulon", "035", 143),
           ("0350165P", "Ecole élémentaire publique de Cardroc", "Cardroc", None, 63),
           ("0930001W", "École Jean Vilar", "Saint-Denis", "093", None),
           ("9740001H", "École du Butor", "Saint-Denis", "974", None)]
TOKENS = {"t-baulon": "commune:Baulon", "t-cardroc": "commune:CARDROC",
          "t-saint-denis": "commune:Saint-Denis", "t-nowhere": "commune:Nowhere",
          "t-dep": "departement:035", "t-aca": "academie:Rennes", "t-all": "all"}


def _old_database(url: str) -> None:
    eng = make_engine(url)
    with eng.connect() as conn:
        command.upgrade(alembic_config(conn), "0010")
        conn.commit()
    with eng.begin() as conn:
        for uai, name, commune, dep, pupils in SCHOOLS:
            conn.execute(text("INSERT INTO schools (uai, name, commune, departement, academie, pupils, "
                              "created_at) VALUES (:u, :n, :c, :d, 'Rennes', :p, :t)"),
                         {"u": uai, "n": name, "c": commune, "d": dep, "p": pupils, "t": NOW})
        for token_id, scope in TOKENS.items():
            conn.execute(text("INSERT INTO api_tokens (token_id, token_hash, role, scope, created_at) "
                              "VALUES (:i, :h, 'reader', :s, :t)"),
                         {"i": token_id, "h": hash_secret(token_id), "s": scope, "t": NOW})
    eng.dispose()


def _scopes(url: str) -> dict[str, str]:
    eng = make_engine(url)
    with eng.connect() as conn:
        out = dict(conn.execute(text("SELECT token_id, scope FROM api_tokens")).all())
    eng.dispose()
    return out


def test_schools_and_scopes_survive_the_upgrade(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    _old_database(db_url)
    eng = make_engine(db_url)
    with caplog.at_level(logging.INFO, logger="socle.collector.migrations"):
        upgrade(eng)
    with eng.connect() as conn:
        assert current_revision(conn) == head_revision()
    with Session(eng) as s:
        kept = [(r.uai, r.name, r.commune, r.departement, r.pupils) for r in
                s.query(School).order_by(School.uai)]
        assert kept == sorted(SCHOOLS)
        baulon = s.get(School, "0350122T")
        assert baulon is not None
        assert school_public(baulon).model_dump(include={"commune_code", "classes", "circonscription"}) == {
            "commune_code": None, "classes": None, "circonscription": None}
    scopes = _scopes(db_url)
    assert scopes == {**TOKENS, "t-baulon": "commune:Baulon (035)",
                      # No département recorded: its UAI's, as the access rules read it then.
                      "t-cardroc": "commune:CARDROC (035)"}
    # Left as they were, and refused: a name in two départements, a name of no school.
    assert "a commune name alone is ambiguous" in (scope_problem(scopes["t-saint-denis"]) or "")
    assert not allowed("reader", scopes["t-saint-denis"], Action.read)
    assert scope_problem(scopes["t-nowhere"]) is not None
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "t-saint-denis" in warned and "several départements (093, 974)" in warned
    assert "t-nowhere" in warned and "no school of this collector is in a commune named Nowhere" in warned
    assert "t-baulon" not in warned
    eng.dispose()


def test_the_downgrade_gives_the_old_scopes_back(db_url: str) -> None:
    _old_database(db_url)
    eng = make_engine(db_url)
    upgrade(eng)
    with eng.connect() as conn:
        command.downgrade(alembic_config(conn), "0010")
        conn.commit()
    assert _scopes(db_url) == TOKENS
    with eng.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM schools")).scalar_one() == len(SCHOOLS)
    eng.dispose()
