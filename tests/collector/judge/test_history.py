"""Verdict history: the changes every judge path writes, their causes, dates and evidence (both databases)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from collector.db.engine import as_utc, session_factory
from collector.db.verdict_tables import SchoolVerdict
from collector.judge.history import cause_of, changes, level_since, record_evidence, school_history
from collector.judge.sweep import sweep
from collector.judge.verdicts import verdict_table
from config.profile import Profile, ProfileInfo, load_profile
from tests.collector_db import NOW, Harness, auth, report_body

UAI = "0350122T"
START = NOW - timedelta(days=12)  # night 0; the harness's clock (NOW) is after every night


def night(k: int) -> datetime:
    """When night ``k``'s sweep runs: an hour after its report."""
    return START + timedelta(days=k, hours=1)


def download_profile(threshold: float = 16.0, version: str = "1") -> Profile:
    """The default profile's download rules, judged on one day (each night's report alone)."""
    rules = [r.model_copy(update={"window_days": 1, **({"threshold": threshold} if r.id == "A2-download-base"
                                                       else {})})
             for r in load_profile().rules if r.id in ("A1-download-floor", "A2-download-base")]
    return Profile(profile=ProfileInfo(id="dl", title="download", version=version), rules=rules)


def post_night(h: Harness, token: str, k: int, down: float) -> None:
    """Night ``k``'s report: its download, measured an hour before the sweep."""
    body = report_body(down=down, taken_at=night(k) - timedelta(hours=1))
    r = h.client.post("/api/v1/reports", json=body, headers=auth(token))
    assert r.status_code == 201, r.text


def play(h: Harness, profile: Profile, downs: dict[int, float], until: int) -> str:
    """Nights 0 to ``until``: a report on the nights of ``downs``, a sweep every night."""
    token = h.enroll()
    for k in range(until + 1):
        if k in downs:
            post_night(h, token, k, downs[k])
        sweep(h.engine, profile, night(k))
    return token


def _history(h: Harness) -> list[Any]:
    with h.engine.connect() as conn:
        return list(reversed(school_history(conn, UAI)))


def test_below_base_one_night_and_back_six_nights_later(harness: Harness) -> None:
    profile = download_profile()
    downs = {k: 50.0 for k in range(12)} | {k: 12.0 for k in range(3, 9)}  # under A2 from night 3 to 8
    play(harness, profile, downs, 11)
    got = _history(harness)
    assert [(c.at, c.subject, c.was, c.became, c.cause) for c in got] == [
        (night(3), "level", "base", "not_ready", "data"),
        (night(3), "A2-download-base", "pass", "fail", "data"),
        (night(9), "level", "not_ready", "base", "data"),
        (night(9), "A2-download-base", "fail", "pass", "data"),
    ]
    assert all(c.evidence is None for c in got)  # recorded after the sweep
    assert record_evidence(harness.engine, profile) == 2  # two school changes
    assert record_evidence(harness.engine, profile) == 0
    got = _history(harness)
    drop = got[0].evidence["rules"]
    assert [r["rule_id"] for r in drop] == ["A2-download-base"] and drop[0]["outcome"] == "fail"
    assert drop[0]["evidence"][0]["value"] == 12.0 and drop[0]["evidence"][0]["threshold"] == 16.0
    assert got[0].evidence["level"] == "not_ready"
    assert [r["rule_id"] for r in got[2].evidence["rules"]] == ["A2-download-base"]  # what changed
    back = got[3].evidence["rules"][0]
    assert (back["outcome"], back["evidence"][0]["value"]) == ("pass", 50.0)
    with harness.engine.connect() as conn:
        assert level_since(conn)[UAI] == night(9)
        assert verdict_table(conn, profile, night(11))[UAI].level == "base"


def test_a_night_without_change_writes_nothing_and_since_holds(harness: Harness) -> None:
    profile = download_profile()
    play(harness, profile, {k: 50.0 for k in range(5)}, 4)
    assert _history(harness) == []
    with session_factory(harness.engine)() as s:
        row = s.get(SchoolVerdict, UAI)
        assert row is not None and as_utc(row.since) == night(0)  # type: ignore[arg-type]
        assert as_utc(row.evaluated_at) == night(4)  # type: ignore[arg-type]


def test_silent_and_heard_again(harness: Harness) -> None:
    profile = download_profile()
    play(harness, profile, {0: 50.0, 1: 50.0, 4: 50.0}, 4)  # no report on nights 2 and 3
    got = [(c.at, c.subject, c.was, c.became, c.cause) for c in _history(harness)]
    assert got == [
        (night(2), "level", "base", "no_data", "silent"),
        (night(2), "A1-download-floor", "pass", "no_data", "silent"),
        (night(2), "A2-download-base", "pass", "no_data", "silent"),
        (night(4), "level", "no_data", "base", "heard"),
        (night(4), "A1-download-floor", "no_data", "pass", "heard"),
        (night(4), "A2-download-base", "no_data", "pass", "heard"),
    ]


def test_a_new_profile_version_is_recorded_as_such(harness: Harness) -> None:
    """A stricter A2 in version 2 turns the school below base: a profile change, not the school's;
    a full re-evaluation in two processes writes it too, and an unchanged school gets no entry."""
    play(harness, download_profile(), {0: 20.0}, 0)
    stricter = download_profile(threshold=25.0, version="2")
    later = night(0) + timedelta(minutes=5)
    assert sweep(harness.engine, stricter, later, everything=True, jobs=2).judged == 3
    got = _history(harness)
    assert [(c.subject, c.was, c.became, c.cause) for c in got] == [
        ("level", "base", "not_ready", "profile"), ("A2-download-base", "pass", "fail", "profile")]
    assert record_evidence(harness.engine, stricter) == 1
    assert _history(harness)[0].evidence["rules"][0]["evidence"][0]["threshold"] == 25.0
    # an entry made under a version this collector no longer runs says why it has no evidence
    play(harness, stricter, {1: 30.0}, 1)
    assert record_evidence(harness.engine, download_profile()) == 1
    assert "another profile version" in _history(harness)[-1].evidence["unavailable"]


def test_a_reader_that_judges_writes_the_history_too(harness: Harness) -> None:
    profile = download_profile()
    token = harness.enroll()
    post_night(harness, token, 0, 50.0)
    with harness.engine.connect() as conn:
        verdict_table(conn, profile, night(0))
        conn.commit()
    post_night(harness, token, 1, 3.0)
    with harness.engine.begin() as conn:
        assert verdict_table(conn, profile, night(1))[UAI].level == "not_ready"
    with harness.engine.connect() as conn:
        rows = conn.execute(select(SchoolVerdict.since).where(SchoolVerdict.school_uai == UAI)).scalar()
    assert as_utc(rows) == night(1)
    assert [(c.subject, c.became) for c in _history(harness)] == [
        ("level", "not_ready"), ("A1-download-floor", "fail"), ("A2-download-base", "fail")]


def test_causes_and_changes_as_values() -> None:
    assert cause_of("pass", "fail", False) == "data"
    assert cause_of("pass", "fail", True) == "profile"
    assert cause_of("pass", "no_data", False) == "silent"
    assert cause_of("no_data", "fail", False) == "heard"
    same = '{"A": "pass", "B": "fail"}'
    assert changes(UAI, 1, ("base", same), ("base", same), False, "d") == []
    got = changes(UAI, 1, ("base", same), ("not_ready", '{"A": "fail", "C": "pass"}'), True, "d")
    assert [(e.subject, e.was, e.became, e.cause) for e in got] == [
        ("level", "base", "not_ready", "profile"), ("A", "pass", "fail", "profile"),
        ("C", None, "pass", "profile"), ("B", "fail", None, "profile")]


def test_two_writers_of_one_change_write_it_once(harness: Harness) -> None:
    """The sweep and a reader judging one school at once: the second waits for the first's row and
    finds the change made (PostgreSQL; SQLite has one writer, and refuses a write over a stale read)."""
    import threading

    from collector.judge.plan import Verdict
    from collector.judge.verdicts import write_verdicts

    if harness.engine.dialect.name != "postgresql":
        import pytest

        pytest.skip("SQLite lets one writer in at a time")
    profile = download_profile()
    play(harness, profile, {0: 50.0}, 0)
    below = {UAI: Verdict("not_ready", ("pass", "fail"), None)}
    first = harness.engine.connect()
    first.begin()
    write_verdicts(first, profile, night(1), below, {UAI: 1})  # holds its rows until it commits
    done = threading.Event()

    def second() -> None:
        with harness.engine.begin() as conn:
            write_verdicts(conn, profile, night(1) + timedelta(seconds=1), below, {UAI: 1})
        done.set()

    thread = threading.Thread(target=second)
    thread.start()
    assert not done.wait(0.5)  # waiting for the first writer's lock
    first.commit()
    first.close()
    thread.join(10)
    assert done.is_set()
    assert [(c.at, c.subject) for c in _history(harness)] == [(night(1), "level"),
                                                              (night(1), "A2-download-base")]


def test_evidence_that_cannot_be_judged_again_says_why_and_holds_back_nothing(
        harness: Harness, monkeypatch: Any) -> None:
    from collector.judge import history

    profile = download_profile()
    play(harness, profile, {0: 50.0, 1: 12.0, 2: 50.0}, 2)

    def broken(*args: Any) -> Any:
        raise ValueError("a damaged sample set")

    monkeypatch.setattr(history, "_evidence", broken)
    assert record_evidence(harness.engine, profile, limit=1) == 1
    monkeypatch.undo()
    assert record_evidence(harness.engine, profile) == 1  # the next change is recorded as usual
    got = _history(harness)
    assert got[0].evidence == {"unavailable": "could not be judged again: ValueError"}
    assert got[2].evidence["rules"][0]["outcome"] == "pass"
