"""The equipment pages' kept judgement (collector/dashboard/equipment_kept.py): the facts token moves with
every change of what the equipment judge reads and only then, and the pages judge the schools again
exactly when it moved (both databases, reports through the real ingest)."""

from __future__ import annotations

import argparse
import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

import collector.dashboard.equipment_kept as kept_module
from collector.cli.equipment import run_agent
from collector.db.models import AgentRow, School
from collector.equipment.declared import ItemDeclaration, remove_item, set_item
from collector.equipment.facts import facts_token
from collector.ingest.writer import IngestWriter
from collector.schools.records import clear_classes, set_classes
from config.equipment import Item
from tests.collector.ingest.test_kept_displays import MONITOR, PROJECTOR, _body, _displays, _group
from tests.collector_db import NOW, Harness, auth

UAI = "0350122T"


def _token(h: Harness, at: Any = NOW) -> tuple[Any, ...]:
    with h.engine.connect() as conn:
        return facts_token(conn, at)


def _declare(h: Harness, item: Item, count: int, room: str = "CM1") -> None:
    with h.sessions() as s:
        set_item(s, ItemDeclaration(uai=UAI, room=room, item=item, count=count), "test", "test", NOW)
        s.commit()


def test_the_token_moves_with_each_change_of_the_facts_and_not_otherwise(harness: Harness) -> None:
    token = harness.enroll()
    writer = IngestWriter(harness.engine, idle_s=0.5)
    seen = [_token(harness)]

    def moved() -> bool:
        seen.append(_token(harness))
        return seen[-1] != seen[-2]

    try:
        assert _group(writer, token, _body(NOW - timedelta(hours=9))) == ["stored"]
        assert moved()  # its first report: the machine counts now
        assert _group(writer, token, _body(NOW - timedelta(hours=8))) == ["stored"]
        assert not moved()  # seen again, no displays reading: nothing the judge reads changed
        assert _group(writer, token, _body(NOW - timedelta(hours=7), _displays(PROJECTOR))) == ["stored"]
        assert moved()  # a reading
        assert _group(writer, token, _body(NOW - timedelta(hours=6), _displays(PROJECTOR))) == ["stored"]
        assert moved()  # a newer reading of the same displays: its time counts (a stale declaration)
        assert _group(writer, token, _body(NOW - timedelta(hours=10), _displays(MONITOR))) == ["stored"]
        assert not moved()  # an older one is not kept
    finally:
        writer.stop()
    _declare(harness, Item.projector, 1)
    assert moved()
    _declare(harness, Item.projector, 1)
    assert not moved()  # the same declaration again: unchanged
    _declare(harness, Item.projector, 2)
    assert moved()
    with harness.sessions() as s:
        assert remove_item(s, UAI, "CM1", Item.projector)
        s.commit()
    assert moved()
    with harness.sessions() as s:
        school = s.get(School, UAI)
        assert school is not None
        set_classes(school, 4, NOW)
        s.commit()
    assert moved()
    with harness.sessions() as s:
        school = s.get(School, UAI)
        assert school is not None
        clear_classes(school)
        s.commit()
    assert moved()
    with harness.sessions() as s:
        agent_id = s.scalars(select(AgentRow.agent_id)).one()
    with harness.sessions() as s:
        run_agent(s, argparse.Namespace(agent_command="role", agent_id=agent_id, role="teacher"))
    assert moved()
    # Time alone: the reading leaves the window, then the machine (its last report was 8 hours ago).
    assert _token(harness, NOW + timedelta(days=29)) == seen[-1]
    assert _token(harness, NOW + timedelta(days=30) - timedelta(hours=5)) != seen[-1]
    with harness.sessions() as s:
        s.get(AgentRow, agent_id).revoked_at = NOW  # type: ignore[union-attr]
        s.commit()
    assert moved()


def _missing(h: Harness, who: dict[str, str]) -> list[list[str]]:
    r = h.client.get("/dashboard/equipment.csv", headers=who)
    assert r.status_code == 200
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    return [[line[0], line[6], line[8]] for line in lines[1:] if line[0] == UAI]  # uai, room, rule


def test_the_pages_judge_again_exactly_when_the_facts_changed(harness: Harness,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    judged: list[int] = []
    real = kept_module.many_equipment

    def counting(*args: Any) -> Any:
        judged.append(len(args[1]))  # the schools judged
        return real(*args)

    monkeypatch.setattr(kept_module, "many_equipment", counting)
    who = auth(harness.token("reader"))
    with harness.sessions() as s:
        school = s.get(School, UAI)
        assert school is not None
        set_classes(school, 1, NOW)
        s.commit()
    token = harness.enroll()
    writer = IngestWriter(harness.engine, idle_s=0.5)
    try:
        assert _group(writer, token, _body(NOW - timedelta(hours=9), _displays(MONITOR))) == ["stored"]
        with harness.sessions() as s:
            run_agent(s, argparse.Namespace(agent_command="role", agent_id=s.scalars(
                select(AgentRow.agent_id)).one(), role="teacher"))
        before = _missing(harness, who)
        assert [UAI, "CM1", "E1-projection"] in before
        schools = judged[0]
        assert schools == 3  # the harness's three schools, judged once
        assert harness.client.get("/dashboard/equipment", headers=who).status_code == 200
        assert harness.client.get("/dashboard/equipment.json", headers=who).status_code == 200
        assert _missing(harness, who) == before and judged == [schools]  # kept: nothing changed
        # The teacher machine now drives a projector: the page says so at once, judging its school only.
        assert _group(writer, token, _body(NOW - timedelta(hours=8), _displays(PROJECTOR))) == ["stored"]
        after = _missing(harness, who)
        assert [UAI, "CM1", "E1-projection"] not in after and judged == [schools, 1]
    finally:
        writer.stop()
    assert [UAI, "", "E3-mobile-devices"] in after
    _declare(harness, Item.tablet, 3, room="")  # 10 per 4 classes, rounded up: 3 for one class
    assert [UAI, "", "E3-mobile-devices"] not in _missing(harness, who)
    assert judged == [schools, 1, 1]
    # Another school's declaration: that school alone is judged again, this one's lines stay.
    with harness.sessions() as s:
        set_item(s, ItemDeclaration(uai="0350127Y", room="", item=Item.tablet, count=1), "test", "test", NOW)
        s.commit()
    kept = _missing(harness, who)
    assert judged == [schools, 1, 1, 1] and [UAI, "", "E3-mobile-devices"] not in kept
