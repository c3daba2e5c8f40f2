"""Stored verdicts: the lean judge equals evaluate(); ingest, staleness and the sweep on both databases."""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, insert

from collector.db.engine import as_utc, session_factory
from collector.db.models import AgentRow, ReportRow, SampleSetRow, School
from collector.db.sample_sets import pack_samples, school_samples, to_us
from collector.db.verdict_tables import SchoolColumnsRow, SchoolVerdict
from collector.ingest.statements import on
from collector.judge import kept as school_columns
from collector.judge.plan import GATE_ORDER, MEASURED, make_plan
from collector.judge.rows import judge
from collector.judge.sweep import sweep, sweep_lock
from collector.judge.verdicts import judge_schools, stale_schools
from collector.schools.records import upsert_school
from config.profile import Aggregate, Comparison, Profile, ProfileInfo, Rule, load_profile
from config.readiness import Sample, SchoolFacts, evaluate
from tests.collector_db import (
    NOW,
    SCHOOLS,
    Harness,
    auth,
    report_body,
)

METRICS = ("bandwidth.download_mbps", "device.ram_total_gb", "wifi.signal_dbm")
# Every aggregate with every comparison, over the three scopes, windows, levels and options, beside the
# default profile: a new aggregate or comparison is judged by every judge here, or these tests fail.
THRESHOLDS = {">=": 20.0, ">": 20.0, "<": 8.0, "<=": 8.0, "==": 8.0}
EXTRA_RULES = [
    Rule(id=f"X-{agg.value}-{j}-{i}", title="x", metric=METRICS[i % 3], comparison=cmp,
         threshold=THRESHOLDS[cmp], scope=scope, aggregate=agg, window_days=(1, 7, 30)[i % 3],
         level=("floor", "base", "target")[i % 3], source="X", required=i % 4 != 0, min_samples=1 + i % 3,
         share_min_pct=75.0 if agg is Aggregate.share else None,
         scale_by="pupils" if scope == "school" and i % 2 else None,
         scale_per_person=0.1 if scope == "school" and i % 2 else None)
    for i, (agg, j, cmp, scope) in enumerate(
        (a, j, c, ("school", "room", "device")[(k + j) % 3])
        for k, a in enumerate(Aggregate) for j, c in enumerate(get_args(Comparison)))
]
# Rules counting only the samples in their hours (A13's kind), every aggregate, over the three scopes: the
# hours span the change to winter time of 25 October 2026 and a day's end at 24:00.
HOURS = ("mon,tue,thu,fri 08:30-16:30", "sun 01:30-03:30; wed 12:00-24:00; fri 09:00-10:00")
HOURS_RULES = [
    Rule(id=f"H-{agg.value}-{i}", title="h", metric=METRICS[i % 3], comparison=(">=", "==", "<")[i % 3],
         threshold=(8.0, 20.0, 8.0)[i % 3], scope=("school", "room", "device")[(i + 1) % 3], aggregate=agg,
         window_days=(7, 30)[i % 2], level=("base", "target")[i % 2], source="X", min_samples=1 + i % 2,
         share_min_pct=60.0 if agg is Aggregate.share else None, hours=HOURS[i % 2],
         timezone=("Europe/Paris", "America/Cayenne")[i // 2 % 2])
    for i, agg in enumerate(Aggregate)
]
PROFILE = Profile(profile=ProfileInfo(id="t", title="t", version="1"),
                  rules=[*load_profile().rules, *EXTRA_RULES, *HOURS_RULES])

sample_st = st.builds(
    lambda metric, value, minutes, room, device, limited: Sample(
        metric=metric, value=value, taken_at=NOW - timedelta(minutes=minutes), room=room, device=device,
        limited_by=limited),
    st.sampled_from((*METRICS, "device.os_supported", "latency.loss_pct")),
    st.one_of(st.sampled_from([8.0, 20.0, 1.0, 0.0, 7.999999999]), st.floats(-100, 100),
              st.just(float("nan"))),
    st.one_of(st.integers(-60 * 24, 31 * 24 * 60), st.sampled_from([-10, -11, 7 * 24 * 60, 30 * 24 * 60])),
    st.sampled_from(["", "CM1", "CE2"]), st.sampled_from(["pc1", "pc2"]),
    st.one_of(st.none(), st.just("cpu")))


def ordered(samples: list[Sample]) -> list[Sample]:
    """Samples as the store reads them: by metric, then time, ties in stored order."""
    return [s for _, s in sorted(enumerate(samples), key=lambda p: (p[1].metric, p[1].taken_at, p[0]))]


def lean(profile: Profile, samples: list[Sample], now: datetime, facts: SchoolFacts) -> Any:
    by_metric: dict[str, list[Any]] = {}
    for s in ordered(samples):
        by_metric.setdefault(s.metric, []).append((s.value, s.taken_at, s.room, s.device, s.limited_by))
    return judge(make_plan(profile, now), by_metric, facts, lambda d: d)


def reference(profile: Profile, samples: list[Sample], now: datetime, facts: SchoolFacts) -> tuple[Any, ...]:
    ev = evaluate(profile, ordered(samples), now, facts)
    return ev.level.value, tuple(o.outcome.value for o in ev.outcomes)


def reference_measured(profile: Profile, samples: list[Sample], now: datetime, facts: SchoolFacts) -> Any:
    """What a verdict keeps of the MEASURED metrics, from evaluate()'s evidence: per metric, the first
    school-wide rule in gate order whose evidence has a figure, as (rule index, figure)."""
    ev = evaluate(profile, ordered(samples), now, facts)
    out = []
    for metric in MEASURED:
        found = None
        gated = sorted((i for i, o in enumerate(ev.outcomes) if o.metric == metric and o.scope == "school"),
                       key=lambda i: GATE_ORDER.get(ev.outcomes[i].level, 2))
        for i in gated:
            value = next((e.value for e in ev.outcomes[i].evidence if e.subject == "school"), None)
            if value is not None and value == value:
                found = (i, value)
                break
        out.append(found)
    return tuple(out)


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sample_st, max_size=40), st.one_of(st.none(), st.integers(0, 600)),
       st.one_of(st.none(), st.integers(0, 60)))
def test_lean_judge_equals_evaluate(samples: list[Sample], pupils: int | None, staff: int | None) -> None:
    facts = SchoolFacts(pupils=pupils, staff=staff)
    v = lean(PROFILE, samples, NOW, facts)
    assert (v.level, v.outcomes) == reference(PROFILE, samples, NOW, facts)
    assert v.measured == reference_measured(PROFILE, samples, NOW, facts)
    if v.valid_until is not None:  # the verdict holds until valid_until, at its last microsecond too
        assert v.valid_until >= NOW
        for at in (v.valid_until, NOW + (v.valid_until - NOW) / 2):
            assert reference(PROFILE, samples, at, facts) == (v.level, v.outcomes)
    else:  # nothing in or ahead of any window: it holds until new data
        assert reference(PROFILE, samples, NOW + timedelta(days=400), facts) == (v.level, v.outcomes)


def test_valid_until_is_when_the_oldest_sample_leaves() -> None:
    taken = NOW - timedelta(days=2)
    v = lean(load_profile(), [Sample("bandwidth.download_mbps", 50.0, taken)], NOW, SchoolFacts())
    assert v.valid_until == taken + timedelta(days=7)
    ahead = NOW + timedelta(hours=1)  # dated ahead of the clock: counts from 10 minutes before
    v = lean(load_profile(), [Sample("bandwidth.download_mbps", 50.0, ahead)], NOW, SchoolFacts())
    assert v.valid_until == ahead - timedelta(minutes=10, microseconds=1)


def _store_samples(engine: Engine, uai: str, samples: list[Sample], by_time: bool = True) -> None:
    """Samples stored as sample sets, one report each (``by_time``: sets the fast path judges)."""
    with engine.begin() as conn:
        aid = str(uuid.uuid4())
        conn.execute(insert(AgentRow), [{"agent_id": aid, "school_uai": uai, "room": "", "token_hash": aid,
                                         "instance_id": aid, "hostname": "pc", "agent_version": "0",
                                         "enrolled_at": NOW}])
        sets = []
        for room, packed in pack_samples(samples, by_time):
            rid = str(uuid.uuid4())
            conn.execute(insert(ReportRow), [{"report_id": rid, "agent_id": aid, "school_uai": uai,
                                             "room": room, "taken_at": NOW, "received_at": NOW,
                                             "payload": {}}])
            sets.append((packed, packed.row(rid, uai, room)))
        sql, cur = on(conn)
        sql.insert_sets(cur, sets)


def test_database_judge_equals_evaluate(harness: Harness) -> None:
    """The streaming read and the lean judge, on both databases, against evaluate() on the same rows:
    sets judged at once (one per time, room and device) and sets with each value's own time."""
    import random

    rng = random.Random(3)
    uais = ["0350122T", "0350127Y"]
    for uai, by_time in zip(uais, (True, False), strict=True):
        samples = [Sample(rng.choice(METRICS), rng.choice([5.0, 8.0, 25.0, rng.uniform(-90, 90)]),
                          NOW - timedelta(minutes=rng.randint(-30, 32 * 24 * 60)), rng.choice(["", "CM1"]),
                          rng.choice(["pc1", "pc2"]), rng.choice([None, None, "cpu"])) for _ in range(300)]
        _store_samples(harness.engine, uai, samples, by_time)
    with harness.engine.connect() as conn:
        got = judge_schools(conn, PROFILE, NOW, uais)
        everything = judge_schools(conn, PROFILE, NOW)
        for uai in uais:
            stored = school_samples(conn, uai, NOW - timedelta(days=400))
            facts = SchoolFacts(pupils=143 if uai == "0350122T" else None)
            assert (got[uai].level, got[uai].outcomes) == reference(PROFILE, stored, NOW, facts)
            assert everything[uai] == got[uai]
    sweep(harness.engine, PROFILE, NOW, everything=True)  # keeps the columns of the sets of one time each
    assert set(_kept(harness.engine, PROFILE, NOW)) == {"0350122T"}
    with harness.engine.connect() as conn:
        assert judge_schools(conn, PROFILE, NOW, uais) == got
        assert judge_schools(conn, PROFILE, NOW) == everything


def _stored(engine: Engine, uai: str) -> SchoolVerdict | None:
    with session_factory(engine)() as s:
        return s.get(SchoolVerdict, uai)


def _full(client: Any, reader: str, uai: str) -> tuple[str, list[str]]:
    """The school's level and failing rules by the full evaluate() of the school page."""
    body = client.get(f"/api/v1/schools/{uai}", headers=auth(reader)).json()
    return body["level"], [r["rule_id"] for r in body["rules"] if r["outcome"] == "fail"]


def test_ingest_marks_the_verdict_out_of_date_and_readers_judge_it(harness: Harness) -> None:
    c, token, reader = harness.client, harness.enroll(), harness.token("reader")
    r = c.post("/api/v1/reports", json=report_body(down=50.0), headers=auth(token))
    assert r.status_code == 201, r.text
    row = _stored(harness.engine, "0350122T")
    assert row is not None and (row.reports, row.judged_reports) == (1, 0)  # counted, not judged yet
    listed = {s["uai"]: s for s in c.get("/api/v1/schools", headers=auth(reader)).json()}
    assert (listed["0350122T"]["level"], listed["0350122T"]["failing"]) == _full(c, reader, "0350122T")
    row = _stored(harness.engine, "0350122T")
    assert row is not None and (row.reports, row.judged_reports) == (1, 1)
    assert row.outcomes["A1-download-floor"] == "pass" and row.valid_until is not None
    # two slower reports make it out of date again; another process's read sees them
    for _ in range(2):
        assert c.post("/api/v1/reports", json=report_body(down=1.0), headers=auth(token)).status_code == 201
    other = Harness(harness.engine)  # a second app on the same database: no memory shared
    listed = {s["uai"]: s for s in other.client.get("/api/v1/schools", headers=auth(reader)).json()}
    assert listed["0350122T"]["level"] == "not_ready"  # the median of 50, 1 and 1 is under the floor
    assert "A1-download-floor" in listed["0350122T"]["failing"]
    assert (listed["0350122T"]["level"], listed["0350122T"]["failing"]) == _full(c, reader, "0350122T")
    row = _stored(harness.engine, "0350122T")
    assert row is not None and (row.reports, row.judged_reports) == (3, 3)
    assert listed["0350127Y"] == {"uai": "0350127Y", "name": "Autre école", "commune": "Bruz",
                                  "level": "no_data", "failing": [], "since": None}


def test_sweep_finds_a_verdict_whose_sample_left_its_window(harness: Harness) -> None:
    """With a fake clock: the only sample (7-day rules) leaves the window, the sweep makes it no_data."""
    token = harness.enroll()
    body = report_body(down=50.0, taken_at=NOW - timedelta(days=1))
    results: list[dict[str, Any]] = body["results"]  # type: ignore[assignment]
    body["results"] = [r for r in results if r["probe"] == "bandwidth"]
    assert harness.client.post("/api/v1/reports", json=body, headers=auth(token)).status_code == 201
    profile = Profile(profile=ProfileInfo(id="bw", title="bw", version="1"),
                      rules=[r for r in load_profile().rules if r.id == "A1-download-floor"])
    assert sweep(harness.engine, profile, NOW).judged == 1
    row = _stored(harness.engine, "0350122T")
    assert row is not None and row.level == "base" and row.failing == []
    assert as_utc(row.valid_until) == NOW + timedelta(days=6)  # type: ignore[arg-type]
    assert sweep(harness.engine, profile, NOW + timedelta(days=5)).judged == 0  # nothing out of date
    later = NOW + timedelta(days=6, seconds=1)
    with harness.engine.connect() as conn:
        assert stale_schools(conn, profile, later) == {"0350122T": 1}
    assert sweep(harness.engine, profile, later).judged == 1
    row = _stored(harness.engine, "0350122T")
    assert row is not None and (row.level, row.valid_until) == ("no_data", None)
    assert sweep(harness.engine, profile, later + timedelta(days=100)).judged == 0


def test_profile_change_and_pupils_change_make_verdicts_out_of_date(harness: Harness) -> None:
    token = harness.enroll()
    assert harness.client.post("/api/v1/reports", json=report_body(down=20.0),
                               headers=auth(token)).status_code == 201
    profile = load_profile()
    sweep(harness.engine, profile, NOW)
    with harness.engine.connect() as conn:
        assert stale_schools(conn, profile, NOW) == {}
        assert stale_schools(conn, PROFILE, NOW) == {"0350122T": 1}  # another profile
        assert set(stale_schools(conn, profile, NOW, everything=True)) == {s.uai for s in SCHOOLS}
    with session_factory(harness.engine)() as s:
        upsert_school(s, SCHOOLS[0].model_copy(update={"pupils": 300}), NOW)
        s.commit()
    with harness.engine.connect() as conn:
        assert stale_schools(conn, profile, NOW) == {"0350122T": 1}
    assert sweep(harness.engine, profile, NOW, everything=True, jobs=2).judged == 3


def test_a_verdict_judged_the_same_is_not_written_again(harness: Harness) -> None:
    """Judged again unchanged: left as stored; the same under another profile digest: only restamped."""
    from collector.judge.plan import profile_hash

    token = harness.enroll()
    assert harness.client.post("/api/v1/reports", json=report_body(down=20.0),
                               headers=auth(token)).status_code == 201
    profile = load_profile()
    assert sweep(harness.engine, profile, NOW).judged == 1
    first = _stored(harness.engine, "0350122T")
    assert first is not None and first.evaluated_at is not None
    later = NOW + timedelta(hours=1)
    assert sweep(harness.engine, profile, later, everything=True).judged == len(SCHOOLS)
    again = _stored(harness.engine, "0350122T")
    assert again is not None and as_utc(again.evaluated_at) == NOW  # type: ignore[arg-type]
    renamed = profile.model_copy(update={"profile": profile.profile.model_copy(update={"title": "Renamed"})})
    assert sweep(harness.engine, renamed, later).judged == len(SCHOOLS)  # another digest: all out of date
    row = _stored(harness.engine, "0350122T")
    assert row is not None and row.profile_hash == profile_hash(renamed)
    assert as_utc(row.evaluated_at) == later  # type: ignore[arg-type]
    assert (row.level, row.outcomes, row.valid_until) == (first.level, first.outcomes, first.valid_until)
    with harness.engine.connect() as conn:
        assert stale_schools(conn, renamed, later) == {}
    for _ in range(2):  # slower reports: the verdict changes and is written
        assert harness.client.post("/api/v1/reports", json=report_body(down=1.0),
                                   headers=auth(token)).status_code == 201
    assert sweep(harness.engine, renamed, later).judged == 1
    row = _stored(harness.engine, "0350122T")
    assert row is not None and row.level == "not_ready" and (row.reports, row.judged_reports) == (3, 3)


def test_only_one_process_sweeps_at_a_time(engine: Engine) -> None:
    with sweep_lock(engine) as first:
        assert first
        assert sweep(engine, load_profile(), NOW).ran is False
    assert sweep(engine, load_profile(), NOW).ran is True


@pytest.mark.postgres
def test_two_collectors_in_two_schemas_of_one_database_sweep_at_once(
        both_engines: tuple[Engine, Engine], engine: Engine) -> None:
    """PostgreSQL's advisory locks are the database's: the sweep's lock is the schema's own."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL matter")
    other = both_engines[1]  # another schema of the same database
    with sweep_lock(engine) as mine:
        assert mine
        assert sweep(other, load_profile(), NOW).ran is True


db_value_st = st.one_of(st.sampled_from([8.0, 20.0, 1.0, 0.0, 7.999999999, 25.0, -67.0]),
                        st.floats(-100, 100), st.sampled_from([math.inf, -math.inf]))
db_sample_st = st.builds(
    lambda school, metric, value, minutes, room, device, limited: (school, Sample(
        metric=metric, value=value, taken_at=NOW - timedelta(minutes=minutes), room=room, device=device,
        limited_by=limited)),
    st.integers(0, 2), st.sampled_from((*METRICS, "device.os_supported", "latency.loss_pct")), db_value_st,
    st.one_of(st.integers(-60 * 24, 31 * 24 * 60), st.sampled_from([-10, -11, 7 * 24 * 60, 30 * 24 * 60]),
              st.integers(0, 3)),
    st.sampled_from(["", "CM1", "CE2"]), st.sampled_from(["pc1", "pc2"]),
    st.one_of(st.none(), st.just("cpu"), st.just("")))
db_school_st = st.tuples(st.one_of(st.none(), st.integers(0, 600)), st.one_of(st.none(), st.integers(0, 60)))
UAIS = ("0350001A", "0350002B", "0350003C")


def _reset(engine: Engine, schools: list[tuple[int | None, int | None]],
           samples: list[tuple[int, Sample]]) -> None:
    """Only these schools and samples in the database."""
    with engine.begin() as conn:
        for table in (SampleSetRow, ReportRow, AgentRow, SchoolColumnsRow, SchoolVerdict, School):
            conn.execute(delete(table))
        conn.execute(insert(School), [{"uai": u, "name": u, "commune": "C", "pupils": p, "staff": s,
                                       "created_at": NOW} for u, (p, s) in zip(UAIS, schools, strict=True)])
    for i, uai in enumerate(UAIS):
        mine = [s for k, s in samples if k == i]
        if mine:
            _store_samples(engine, uai, mine, by_time=i != 2)


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(db_school_st, min_size=3, max_size=3), st.lists(db_sample_st, max_size=60))
def test_stored_sets_judge_equals_evaluate(engine: Engine, schools: list[tuple[int | None, int | None]],
                                           samples: list[tuple[int, Sample]]) -> None:
    """Random samples stored as sets on both databases: the verdicts of every school, read in one
    streaming query and by school, equal evaluate() on the samples read back, ``valid_until`` included."""
    _reset(engine, schools, samples)
    with engine.connect() as conn:
        everything = judge_schools(conn, PROFILE, NOW)
        by_school = judge_schools(conn, PROFILE, NOW, list(UAIS))
        assert everything == by_school
        for uai, (pupils, staff) in zip(UAIS, schools, strict=True):
            stored = school_samples(conn, uai, NOW - timedelta(days=400))
            facts = SchoolFacts(pupils=pupils, staff=staff)
            v = everything[uai]
            assert (v.level, v.outcomes) == reference(PROFILE, stored, NOW, facts)
            assert v.measured == reference_measured(PROFILE, stored, NOW, facts)
            if v.valid_until is not None:
                assert v.valid_until >= NOW
                assert reference(PROFILE, stored, v.valid_until, facts) == (v.level, v.outcomes)


_BATCH_NOW_US = to_us(NOW)
batch_value_st = st.one_of(db_value_st, st.just(float("nan")), st.sampled_from([1e300, -1e300, 5e-324]))


@st.composite
def kept_columns_st(draw: Any) -> Any:
    """Random columns of one room and device, none limited: a school the batch judge takes."""
    from collector.judge.columns import Columns

    n = draw(st.integers(1, 9))
    minute = 60_000_000
    times = sorted(draw(st.lists(st.one_of(st.integers(-60 * 24 * 32, 60 * 24), st.sampled_from(
        [-7 * 24 * 60, -30 * 24 * 60, 10, 11, 0])), min_size=n, max_size=n)))
    width = len(make_plan(PROFILE, NOW).metrics)
    cols = [draw(st.one_of(st.none(), st.lists(batch_value_st, min_size=n, max_size=n).map(tuple)))
            for _ in range(width)]
    return Columns([_BATCH_NOW_US + t * minute for t in times], cols, ["R"] * n, ["pc"] * n, None)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(kept_columns_st(), db_school_st), min_size=1, max_size=6))
def test_batch_judge_equals_the_columns_judge(
        schools: list[tuple[Any, tuple[int | None, int | None]]]) -> None:
    """Kept rows judged many at once on arrays: the verdicts judge_columns gives, valid_until included
    (every aggregate, comparison, scope and per-pupil scaling of PROFILE, plus a mean rule)."""
    from collector.db.sample_sets import from_us
    from collector.judge.batch import judge_rows
    from collector.judge.columns import judge_columns

    mean_rules = [Rule(id=f"M-{i}", title="m", metric=METRICS[i], comparison=">=", threshold=8.0,
                       aggregate="mean", window_days=7, level="base", source="X", scope="school")
                  for i in range(3)]
    profile = Profile(profile=ProfileInfo(id="b", title="b", version="1"),
                      rules=[*PROFILE.rules, *mean_rules])
    plan = make_plan(profile, NOW, to_us)
    uais = [f"{i:07d}A" for i in range(len(schools))]
    facts = {u: SchoolFacts(pupils=p, staff=s) for u, (_, (p, s)) in zip(uais, schools, strict=True)}
    rows = [(u, school_columns.encode(c._replace(cols=c.cols + [None] * (len(plan.metrics) - len(c.cols)))))
            for u, (c, _) in zip(uais, schools, strict=True)]
    got = judge_rows(plan, rows, facts, from_us)
    for uai, raw in rows:
        assert got[uai] == judge_columns(plan, school_columns.decode(raw, len(plan.metrics)), facts[uai],
                                         from_us)


def _kept(engine: Engine, profile: Profile, now: datetime) -> dict[str, Any]:
    plan = make_plan(profile, now, to_us)
    with engine.connect() as conn:
        return {u: school_columns.decode(row, len(plan.metrics))
                for u, row in school_columns.kept(conn, plan)}


def test_columns_read_back_as_they_were_kept() -> None:
    from collector.judge.columns import Columns

    nan = float("nan")
    cases = [
        Columns([1, 2, 3], [(1.0, 2.5, -3.0), None, (nan, 7.0, math.inf)], ["CM1", "CE2", "CM1"],
                ["pc1", "pc1", "pc2"], [set(), {"wifi.signal_dbm", "x"}, set()]),
        Columns([5], [None, (8.0,), None], [""], ["pc1"], None),
        Columns([1, 1], [None, None, None], ["a", "a"], ["d", "d"], [{"m"}, set()]),
    ]
    for columns in cases:
        back = school_columns.decode(school_columns.encode(columns), 3)
        assert list(back.times) == list(columns.times)
        assert list(back.rooms) == list(columns.rooms) and list(back.devices) == list(columns.devices)
        assert back.limited == columns.limited
        assert [None if c is None else [repr(v) for v in c] for c in back.cols] == \
            [None if c is None else [repr(v) for v in c] for c in columns.cols]


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(db_school_st, min_size=3, max_size=3), st.lists(db_sample_st, max_size=60))
def test_kept_columns_judge_as_the_sets_do(engine: Engine, schools: list[tuple[int | None, int | None]],
                                          samples: list[tuple[int, Sample]]) -> None:
    """On both databases: the sweep keeps each school's columns, and judging from them gives the verdicts
    its sets give, now and once the clock has moved (a sample left its window, another entered)."""
    _reset(engine, schools, samples)
    sweep(engine, PROFILE, NOW, everything=True)
    kept = _kept(engine, PROFILE, NOW)
    for i in (0, 1):  # sets of one time each: the sweep kept their columns
        assert (UAIS[i] in kept) == any(k == i for k, _ in samples)
    for at in (NOW, NOW + timedelta(days=3), NOW + timedelta(days=29, hours=23)):
        with engine.connect() as conn:
            assert judge_schools(conn, PROFILE, at) == judge_schools(conn, PROFILE, at, use_kept=False)
            assert judge_schools(conn, PROFILE, at, list(UAIS)) == judge_schools(conn, PROFILE, at,
                                                                                  use_kept=False)


def test_kept_columns_serve_until_a_report_comes(harness: Harness) -> None:
    """Columns made before a report, for other metrics, or from too late are not used; the next sweep
    keeps them again."""
    c, token = harness.client, harness.enroll()
    assert c.post("/api/v1/reports", json=report_body(down=50.0), headers=auth(token)).status_code == 201
    profile = load_profile()
    assert sweep(harness.engine, profile, NOW).judged == 1
    assert set(_kept(harness.engine, profile, NOW)) == {"0350122T"}
    with harness.engine.connect() as conn:
        assert judge_schools(conn, profile, NOW)["0350122T"].level != "not_ready"
    for _ in range(2):
        assert c.post("/api/v1/reports", json=report_body(down=1.0), headers=auth(token)).status_code == 201
    assert _kept(harness.engine, profile, NOW) == {}  # two reports came: the count moved
    with harness.engine.connect() as conn:
        assert judge_schools(conn, profile, NOW)["0350122T"].level == "not_ready"  # from the sets
    assert sweep(harness.engine, profile, NOW).judged == 1
    kept = _kept(harness.engine, profile, NOW)
    assert len(kept["0350122T"].times) == 3
    others = Profile(profile=ProfileInfo(id="bw", title="bw", version="1"),
                     rules=[r for r in profile.rules if r.id == "A1-download-floor"])
    assert _kept(harness.engine, others, NOW) == {}  # made for other metrics
    longer = Profile(profile=ProfileInfo(id="long", title="long", version="1"),
                     rules=[r.model_copy(update={"window_days": 90}) if r.id == "A1-download-floor" else r
                            for r in profile.rules])
    assert _kept(harness.engine, longer, NOW) == {}  # from too late for a 90-day window
    assert set(_kept(harness.engine, profile, NOW + timedelta(days=5))) == {"0350122T"}


def test_evaluate_command_keeps_columns_and_can_judge_from_the_sets(
        harness: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    from collector.cli.main import main as collector_main

    today = datetime.now(NOW.tzinfo)  # the command judges at the real clock
    _store_samples(harness.engine, "0350122T",
                   [Sample("bandwidth.download_mbps", 50.0, today - timedelta(hours=h)) for h in (1, 30)])
    url = harness.engine.url.render_as_string(hide_password=False)
    assert collector_main(["evaluate", "--all", "--db", url]) == 0
    assert f"judged {len(SCHOOLS)} school(s)" in capsys.readouterr().out
    kept = _kept(harness.engine, load_profile(), datetime.now(NOW.tzinfo))  # (kept from the command's now)
    assert set(kept) == {"0350122T"} and len(kept["0350122T"].times) == 2
    assert collector_main(["evaluate", "--all", "--from-sets", "--jobs", "2", "--db", url]) == 0
    assert f"judged {len(SCHOOLS)} school(s)" in capsys.readouterr().out
    assert set(_kept(harness.engine, load_profile(), datetime.now(NOW.tzinfo))) == {"0350122T"}


def test_rows_fetched_ahead_come_in_order_and_the_source_is_closed_whatever_happens() -> None:
    from collector.db.streaming import ahead as _ahead

    closed: list[str] = []

    def source(n: int, fail_at: int | None = None) -> Any:
        try:
            for i in range(n):
                if i == fail_at:
                    raise RuntimeError("the database went away")
                yield [(i, k) for k in range(3)]
        finally:
            closed.append("closed")

    assert list(_ahead(source(5))) == [(i, k) for i in range(5) for k in range(3)]
    reader = _ahead(source(1000))
    assert next(reader) == (0, 0)
    reader.close()  # the reader stops early: the fetching thread ends and closes the source
    with pytest.raises(RuntimeError, match="went away"):
        list(_ahead(source(5, fail_at=2)))
    assert closed == ["closed"] * 3
