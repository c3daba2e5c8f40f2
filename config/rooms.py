"""A machine's room from its hostname, by a pattern the district chooses.

Schools often name their PCs after the room: ``CM1-PC03``, ``BCD-PC1``. A pattern
is a Python regular expression with a named group ``room``, searched in the
hostname; ``^(?P<room>[A-Z0-9]+)-PC\\d+$`` gives ``CM1`` for ``CM1-PC03``. Add
``(?i)`` in front to accept ``cm1-pc03`` too (the room is then as the hostname
spells it).
"""

from __future__ import annotations

import re

ROOM_GROUP = "room"
MAX_PATTERN_CHARS = 300


class RoomPatternError(ValueError):
    """A pattern that cannot give a room."""


def check_room_pattern(pattern: str) -> str:
    """``pattern`` if it compiles and has a ``(?P<room>...)`` group, else :class:`RoomPatternError`."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise RoomPatternError(f"a room pattern has at most {MAX_PATTERN_CHARS} characters")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise RoomPatternError(f"{pattern!r} is not a regular expression: {exc}") from None
    if ROOM_GROUP not in compiled.groupindex:
        raise RoomPatternError(f"{pattern!r} has no (?P<room>...) group: name the part of the hostname "
                               "that is the room, e.g. '^(?P<room>[A-Z0-9]+)-PC\\d+$'")
    return pattern


def room_from_hostname(pattern: str, hostname: str) -> str | None:
    """The room ``pattern`` finds in ``hostname``, or None when it does not match (or matches empty).

    >>> room_from_hostname(r"^(?P<room>[A-Z0-9]+)-PC\\d+$", "CM1-PC03")
    'CM1'
    """
    found = re.search(pattern, hostname)
    if found is None:
        return None
    room = (found.group(ROOM_GROUP) or "").strip()
    return room or None
