"""The per-process table of every stored verdict (VerdictCache): read again exactly when a transaction that
stored verdicts has committed since (both databases)."""

from __future__ import annotations

from sqlalchemy import Engine, func, insert, select

from collector.db.verdict_tables import VerdictWrite
from collector.judge.plan import FAILED, PASSED, Verdict, make_plan
from collector.judge.verdicts import (
    WRITES_KEPT,
    VerdictCache,
    read_stored,
    trim_writes,
    verdict_table,
    write_verdicts,
)
from config.profile import load_profile
from tests.collector_db import NOW, Harness, auth, report_body

UAI = "0350122T"  # one of the harness's schools


def _write(engine: Engine, level: str) -> None:
    """A verdict for UAI stored by another connection, as a sweep in another process stores it."""
    profile = load_profile()
    plan = make_plan(profile, NOW)
    outcomes = tuple(FAILED if level == "not_ready" and i == 0 else PASSED for i in range(len(plan.ids)))
    with engine.begin() as conn:
        write_verdicts(conn, profile, NOW, {UAI: Verdict(level, outcomes, None)}, {UAI: 0})


def test_read_again_only_after_a_committed_write(harness: Harness) -> None:
    cache = VerdictCache()
    _write(harness.engine, "target")
    with harness.engine.connect() as conn:
        first = cache.table(conn)
        assert first[UAI].level == "target" and first[UAI].failing == ()
        assert cache.table(conn) is first  # nothing written since: the same table, not read again
    _write(harness.engine, "not_ready")
    with harness.engine.connect() as conn:
        again = cache.table(conn)
        assert again is not first and again[UAI].level == "not_ready"
        assert again[UAI].failing == (load_profile().rules[0].id,)
        assert again == read_stored(conn)


def test_a_write_with_a_smaller_id_committed_later_is_seen(harness: Harness) -> None:
    """Ids are taken in one order and committed in another: the count moves even when the newest id
    does not."""
    cache = VerdictCache()
    with harness.engine.begin() as conn:
        conn.execute(insert(VerdictWrite).values(id=10))
    with harness.engine.connect() as conn:
        before = cache.table(conn)
    with harness.engine.begin() as conn:
        conn.execute(insert(VerdictWrite).values(id=5))  # as if it had begun before id 10 and ended after
    with harness.engine.connect() as conn:
        assert cache.table(conn) is not before


def test_unchanged_verdict_is_not_a_write(harness: Harness) -> None:
    _write(harness.engine, "base")
    with harness.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(VerdictWrite)).scalar_one()
    _write(harness.engine, "base")  # the same verdict again: nothing rewritten, no row
    with harness.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(VerdictWrite)).scalar_one() == count


def test_trim_keeps_the_newest(harness: Harness) -> None:
    with harness.engine.begin() as conn:
        conn.execute(insert(VerdictWrite), [{} for _ in range(2 * WRITES_KEPT)])
        assert trim_writes(conn) == 0  # not yet twice as many
        conn.execute(insert(VerdictWrite), [{}])
        top = conn.execute(select(func.max(VerdictWrite.id))).scalar_one()
        assert trim_writes(conn) == WRITES_KEPT + 1
        assert conn.execute(select(func.count(), func.min(VerdictWrite.id))).one() == (WRITES_KEPT,
                                                                                       top - WRITES_KEPT + 1)


def test_cached_table_judges_out_of_date_verdicts(harness: Harness) -> None:
    """The cache serves the stored verdicts; the out of date ones are still judged again on read."""
    token = harness.enroll()
    r = harness.client.post("/api/v1/reports", json=report_body(down=0.5),
                            headers=auth(token))
    assert r.status_code == 201, r.text
    cache = VerdictCache()
    profile = load_profile()
    with harness.engine.begin() as conn:
        assert verdict_table(conn, profile, NOW, cache=cache)[UAI].level == "not_ready"  # judged on read
    with harness.engine.begin() as conn:
        assert verdict_table(conn, profile, NOW, cache=cache)[UAI].level == "not_ready"  # now stored


def test_overview_shows_what_another_process_wrote(harness: Harness) -> None:
    reader = harness.token("reader")
    harness.enroll()
    _write(harness.engine, "target")
    page = harness.client.get(f"/dashboard?q={UAI}", headers=auth(reader))
    assert page.status_code == 200 and "badge level-target" in page.text
    _write(harness.engine, "not_ready")  # a sweep elsewhere
    page = harness.client.get(f"/dashboard?q={UAI}", headers=auth(reader))
    assert "badge level-not_ready" in page.text and "badge level-target" not in page.text
