"""A13, uptime: the agent's light checks, posted through the real ingest, judged by every judge.

The checks are made by the latency probe itself (agent/runner.py around probes/latency.py) at the
times the agent's scheduler runs them (every 15 minutes on weekdays, 08:00-17:00 by default, and the
nightly check), against an HTTP session that answers or fails: the only seam replaced is the network.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import select

from agent.runner import run_probes
from agent.schedule import in_school_hours
from collector.db.verdict_tables import SchoolVerdict
from collector.judge.sweep import sweep
from collector.judge.verdicts import judge_schools
from config.agent_settings import AgentSettings
from config.profile import load_profile
from config.wire import DeviceIdentity, Report
from probes import registry
from probes.base import ProbeContext
from tests.collector_db import NOW, Harness, auth

PARIS = ZoneInfo("Europe/Paris")
UAI = "0350122T"


class _Answer:
    def close(self) -> None:
        pass


class _Link:
    """An HTTP session on a school's link: it answers, or every request fails in transit."""

    def __init__(self, up: bool) -> None:
        self.up = up

    def get(self, url: str, timeout: float) -> _Answer:
        if not self.up:
            raise requests.ConnectionError("Network is unreachable")
        return _Answer()


def light_check(at: datetime, up: bool, device: DeviceIdentity) -> Report:
    """One light check as the agent makes it: the latency probe run by the agent's runner at ``at``."""
    settings = AgentSettings.model_validate({"probes": {"latency": {"samples": 3}}})
    clock = iter(range(10_000))
    ctx = ProbeContext(settings=settings, collector_url="https://collecteur.exemple.fr/", http=_Link(up),
                       monotonic=lambda: next(clock) / 1000, sleep=lambda s: None, clock=lambda: at)
    results = run_probes([registry.get("latency")], ctx, 30)
    return Report(report_id=uuid.uuid4(), agent_version="0.1.0", device=device, school_uai=UAI,
                  room="CM1", taken_at=at, results=results)


def schedule_slots(since: datetime, until: datetime) -> list[datetime]:
    """When the agent's scheduler runs a light check between two moments (its default settings)."""
    light = AgentSettings().schedule.light
    slots, at = [], since
    while at < until:
        if in_school_hours(at, light, PARIS):
            slots.append(at)
        at += timedelta(minutes=light.every_min)
    return slots


def in_rule_hours(at: datetime) -> bool:
    local = at.astimezone(PARIS)
    return local.weekday() in (0, 1, 3, 4) and (8, 30) <= (local.hour, local.minute) < (16, 30)


def checks(down_in_hours: int) -> list[Report]:
    """The last 100 school-hours light checks before NOW (``down_in_hours`` of them unreachable), every
    light check outside school hours in between (the agent runs them 08:00-17:00, Wednesdays too) and
    the nightly checks, all of those unreachable."""
    device = DeviceIdentity(instance_id=uuid.uuid4(), hostname="pc-cm1")
    start = datetime(2026, 11, 9, 7, 0, tzinfo=PARIS)  # a Monday, before the agent's first light check
    slots = schedule_slots(start, NOW)
    inside = [s for s in slots if in_rule_hours(s)][-100:]
    outside = [s for s in slots if not in_rule_hours(s) and s > inside[0]]
    nights = [datetime(2026, 11, d, 2, 17, tzinfo=PARIS) for d in range(16, 21)]
    assert len(inside) == 100 and len(outside) > 40  # Wednesday, 08:00-08:30 and 16:30-17:00
    down = set(inside[::10][:down_in_hours]) if down_in_hours <= 10 else set(inside[:down_in_hours])
    return ([light_check(at, at not in down, device) for at in inside]
            + [light_check(at, False, device) for at in outside + nights])


def post(harness: Harness, reports: list[Report]) -> None:
    token = harness.enroll(UAI)
    bodies = [r.model_dump(mode="json") for r in reports]
    for i in range(0, len(bodies), 200):
        r = harness.client.post("/api/v1/reports/batch", json={"reports": bodies[i : i + 200]},
                                headers=auth(token))
        assert r.status_code == 200, r.text
        assert {x["status"] for x in r.json()["results"]} == {"stored"}


def test_reachable_in_90_of_100_school_hours_checks_is_90_pct(harness: Harness) -> None:
    """On both databases: 90 of the 100 checks in school hours reached the collector, every check outside
    school hours did not; the school page's evaluate(), the stored verdict (sweep: kept columns and
    batch judge), the judge from the sets and the dashboard all say 90 % of 100, so A13 fails."""
    reports = checks(down_in_hours=10)
    unreachable = sum(1 for r in reports if r.results[0].measurement.internet_reachable is False)  # type: ignore[union-attr]
    assert (len(reports), unreachable) == (len(reports), len(reports) - 90)  # outside hours: all down
    post(harness, reports)
    reader = harness.token("reader")
    body = harness.client.get(f"/api/v1/schools/{UAI}", headers=auth(reader)).json()
    rule = next(r for r in body["rules"] if r["rule_id"] == "A13-uptime")
    assert rule["outcome"] == "fail" and rule["proposed"] is True
    assert rule["hours"] == "mon,tue,thu,fri 08:30-16:30" and rule["share_min_pct"] == 99
    [evidence] = rule["evidence"]
    assert (evidence["value"], evidence["samples"]) == (90.0, 100)

    profile = load_profile()
    at = list(profile.rules).index(next(r for r in profile.rules if r.id == "A13-uptime"))
    sweep(harness.engine, profile, NOW, everything=True)
    with harness.sessions() as s:
        stored = s.scalar(select(SchoolVerdict).where(SchoolVerdict.school_uai == UAI))
        assert stored is not None and stored.outcomes["A13-uptime"] == "fail"
    with harness.engine.connect() as conn:
        for use_kept in (True, False):
            assert judge_schools(conn, profile, NOW, [UAI], use_kept=use_kept)[UAI].outcomes[at] == "fail"

    page = harness.client.post("/login", data={"token": reader, "next": f"/dashboard/schools/{UAI}"})
    assert page.status_code == 200
    html = page.text
    section = html[html.index('id="uptime"'):html.index("</section>", html.index('id="uptime"'))]
    assert 'id="uptime-pct">90 %<' in section and 'data-checks="100"' in section
    assert "des 100 contrôles en heures d&#39;école" in section and "seuil 99 %" in section
    assert "lun,mar,jeu,ven 08:30-16:30 (Europe/Paris)" in section


def test_99_of_100_meets_the_rule_and_too_few_checks_are_not_judged(harness: Harness) -> None:
    """One check in a hundred unreachable meets 99 %; with 60 school-hours checks only the rule gives no
    data with the reason, however many checks outside school hours came."""
    post(harness, checks(down_in_hours=1))
    reader = harness.token("reader")
    rule = next(r for r in harness.client.get(f"/api/v1/schools/{UAI}", headers=auth(reader)).json()["rules"]
                if r["rule_id"] == "A13-uptime")
    assert rule["outcome"] == "pass" and rule["evidence"][0]["value"] == 99.0

    other = "0350127Y"
    few = [r.model_copy(update={"school_uai": other, "report_id": uuid.uuid4()})
           for r in checks(down_in_hours=0)[40:]]  # 60 in school hours, then the rest
    token = harness.enroll(other)
    for i in range(0, len(few), 200):
        harness.client.post("/api/v1/reports/batch", json={"reports": [r.model_dump(mode="json")
                                                                         for r in few[i : i + 200]]},
                            headers=auth(token))
    rules = harness.client.get(f"/api/v1/schools/{other}", headers=auth(reader)).json()["rules"]
    rule = next(r for r in rules if r["rule_id"] == "A13-uptime")
    assert rule["outcome"] == "no_data"
    assert rule["evidence"][0]["samples"] == 60 and rule["evidence"][0]["note"] == "60 sample(s), 100 needed"
