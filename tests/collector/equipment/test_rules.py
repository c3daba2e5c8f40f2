"""The equipment judge, table by table: measured against declared, stale declarations, contradictions,
shared items, class counts unknown or smaller than the rooms, rules that apply only where there are
mobile devices. The facts are written by hand; the profile's rules are the bundled ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from collector.db.displays import Display
from collector.equipment.rules import Declaration, Facts, Machine, Measured, judge_equipment, resolve
from config.equipment import Item, item_of
from config.profile import EquipmentRule, Need, load_profile

AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
RULES = load_profile().equipment
EPSON = Display("projector", "EPSON PJ")
DELL = Display("monitor", "DELL U2415")


def _teacher(room: str, *displays: Display, at: datetime = AT) -> Machine:
    return Machine(hostname=f"pc-{room.lower()}", role="teacher", room=room, last_seen=at, displays_at=at,
                   displays=displays)


def _decl(room: str, item: Item, count: int, at: datetime = AT) -> Declaration:
    return Declaration(room=room, item=item, count=count, by="admin", at=at, source="command line")


def _outcome(facts: Facts, rule_id: str) -> dict[str, object]:
    verdict = judge_equipment(RULES, facts)
    return next(o for o in verdict.model_dump()["outcomes"] if o["rule_id"] == rule_id)


@pytest.mark.parametrize(("count", "absence_at", "declared", "decl_at", "want"), [
    (0, None, None, None, (0, "none", None, False)),
    (1, None, None, None, (1, "measured", None, False)),
    (0, None, 1, AT, (1, "declared", None, False)),
    (1, AT, 1, AT, (1, "both", None, False)),
    (2, AT, 1, AT, (2, "measured", "declared 1, measured 2: the measured count is used", False)),
    # A teacher machine's newer reading shows no projector: the older declaration is stale.
    (0, AT, 1, AT - timedelta(days=40),
     (0, "measured", "declared 1, measured 0: the declaration is older than the measurement, which is used",
      True)),
    # ...but a declaration made after that reading stands, and the disagreement is shown.
    (0, AT, 1, AT + timedelta(days=1),
     (1, "declared", "declared 1, measured 0: the declaration is used (what agents see is a lower bound)",
      False)),
])
def test_resolve(count: int, absence_at: datetime | None, declared: int | None, decl_at: datetime | None,
                 want: tuple[int, str, str | None, bool]) -> None:
    decls = [] if declared is None or decl_at is None else [_decl("CM1", Item.projector, declared, decl_at)]
    v = resolve(Need.projection, "CM1", Measured(count, [], absence_at), decls)
    assert (v.count, v.origin, v.contradiction, v.stale) == want


def test_a_projector_on_a_cart_makes_up_for_one_room() -> None:
    facts = Facts(classes=2, classes_origin="admin",
                  machines=(_teacher("CM1", EPSON), _teacher("CM2", DELL)),
                  declared=(_decl("", Item.projector, 1),))
    e1 = _outcome(facts, "E1-projection")
    assert (e1["outcome"], e1["met"], e1["of"]) == ("pass", 2, 2)
    notes = {e["subject"]: e["note"] for e in e1["evidence"]}  # type: ignore[attr-defined]
    assert notes == {"CM1": None, "CM2": "made up by one declared for the whole school"}


def test_classes_without_a_known_room_are_counted_and_named() -> None:
    facts = Facts(classes=3, classes_origin="import", machines=(_teacher("CM1", EPSON),))
    e1 = _outcome(facts, "E1-projection")
    assert (e1["outcome"], e1["met"], e1["of"], e1["missing"]) == ("fail", 1, 3, ["(no room known)"])
    assert e1["evidence"][-1]["note"] == ("2 class(es) with no machine enrolled and nothing declared: "  # type: ignore[index]
                                          "no room known")


def test_an_unknown_class_count_gives_no_data_with_the_way_to_set_it() -> None:
    facts = Facts(classes=None, classes_origin=None, machines=(_teacher("CM1", EPSON),),
                  declared=(_decl("", Item.tablet, 12),))
    verdict = judge_equipment(RULES, facts)
    by_id = {o.rule_id: o for o in verdict.outcomes}
    assert by_id["E1-projection"].outcome == "no_data"
    assert "school set --classes" in (by_id["E1-projection"].note or "")
    assert by_id["E3-mobile-devices"].outcome == "no_data"
    assert verdict.level == "not_ready"  # E4: tablets without an MDM or a cabinet fail, whatever the count


def test_e4_applies_only_where_there_are_mobile_devices_and_counts_mobile_machines() -> None:
    none = Facts(classes=1, classes_origin="admin", machines=(_teacher("CM1", EPSON),))
    assert _outcome(none, "E4-mdm")["outcome"] == "not_applicable"
    assert judge_equipment(RULES, none).level == "not_ready"  # E3: 0 of 3 mobile devices
    mobile = tuple(Machine(hostname=f"tab-{i}", role="mobile", room="CM1", last_seen=AT) for i in range(3))
    full = Facts(classes=1, classes_origin="admin", machines=(_teacher("CM1", EPSON), *mobile),
                 declared=(_decl("", Item.mdm, 1), _decl("", Item.charging_cabinet, 1)))
    e3 = _outcome(full, "E3-mobile-devices")
    assert (e3["outcome"], e3["met"], e3["needed"]) == ("pass", 3, 3)  # 10 per 4 classes, 1 class: 3
    assert judge_equipment(RULES, full).level == "base"


def test_a_mobile_machine_brings_no_projector_to_its_room_and_a_pupil_machine_no_teacher() -> None:
    laptop = Machine(hostname="tab-1", role="mobile", room="CM1", last_seen=AT, displays_at=AT,
                     displays=(EPSON,))
    pupil = Machine(hostname="pc-eleve", role="pupil", room="CM1", last_seen=AT, displays_at=AT,
                    displays=(DELL,))
    facts = Facts(classes=1, classes_origin="admin", machines=(laptop, pupil))
    assert _outcome(facts, "E1-projection")["outcome"] == "fail"
    assert _outcome(facts, "E2-teacher-computer")["outcome"] == "fail"


def test_more_rooms_than_classes_pass_when_enough_rooms_meet_it() -> None:
    facts = Facts(classes=1, classes_origin="admin",
                  machines=(_teacher("CM1", EPSON), _teacher("Salle info")))
    e1 = _outcome(facts, "E1-projection")
    assert (e1["outcome"], e1["met"], e1["missing"]) == ("pass", 1, [])
    assert e1["note"] == "2 rooms for 1 classes: 1 meet it"


def test_item_names_french_and_english() -> None:
    assert [item_of(n) for n in ("Vidéoprojecteur", "TBI", "ENI", "tablettes", "Armoire de recharge", "MDM",
                                 "poste enseignant", "laptop")] == [
        Item.projector, Item.interactive_whiteboard, Item.interactive_display, Item.tablet,
        Item.charging_cabinet, Item.mdm, Item.teacher_computer, Item.laptop]
    with pytest.raises(ValueError, match="is not an equipment item"):
        item_of("chaise")


def test_the_default_profile_has_e1_to_e4_with_their_sources() -> None:
    assert [(r.id, r.source, r.need.value, r.scope) for r in RULES] == [
        ("E1-projection", "E1", "projection", "class"),
        ("E2-teacher-computer", "E2", "teacher_computer", "class"),
        ("E3-mobile-devices", "E3", "mobile_device", "school"), ("E4-mdm", "E4", "mdm", "school"),
        ("E4-charging-cabinet", "E4", "charging_cabinet", "school")]
    with pytest.raises(ValueError, match="per_classes and where_present only go with scope 'school'"):
        EquipmentRule(id="x", title="x", need=Need.projection, scope="class", at_least=1, per_classes=4,
                      source="E1")


def test_a_machine_of_unsaid_role_that_sees_a_projector_makes_its_room_a_class_with_one() -> None:
    shared = Machine(hostname="pc-salle", role=None, room="CE1", last_seen=AT, displays_at=AT,
                     displays=(EPSON,))
    facts = Facts(classes=1, classes_origin="admin", machines=(shared,))
    e1, e2 = _outcome(facts, "E1-projection"), _outcome(facts, "E2-teacher-computer")
    assert (e1["outcome"], e1["met"]) == ("pass", 1)
    assert (e2["outcome"], e2["missing"]) == ("fail", ["CE1"])  # its role unsaid: no teacher computer
