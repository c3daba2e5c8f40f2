"""Weekly hours — a school's teaching hours, a rule's school hours — and whether a moment falls in them.

Written as text (``"mon,tue,thu,fri 08:30-16:30; wed 08:30-12:00"``, :func:`parse_hours`)
in one time zone. The loi Abeille check (config/compliance.py) reads a school's
teaching hours; a rule with ``hours`` (config/profile.py, e.g. A13's uptime) counts
only the samples taken in them.

Whether a moment is in the hours is defined once, in local time
(:meth:`TeachingHours.covers`), in three forms side by side like the aggregates of
config/aggregates.py: for a datetime (config.readiness.evaluate), for microseconds
since the epoch (the collector's row and column judges) and for an array of them
(the numpy batch judge). The last two take each UTC minute's answer from the first:
spans are whole minutes and so are time-zone offsets and their changes since 1972,
so one minute has one answer (checked: a minute across a change is answered
moment by moment). The tests hold the three forms to the same answers.

numpy is imported by the array form only, when it runs.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.compat import UTC

DEFAULT_TIMEZONE = "Europe/Paris"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(r"^\s*(?P<days>[a-z,\-\s]+?)\s+(?P<spans>\d.*)$")
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE_US = 60_000_000
_CACHE_LIMIT = 1_000_000  # minutes remembered per hours (two years' worth)


class HoursError(ValueError):
    """Teaching hours that cannot be read; the message says which part and why."""


@dataclass(frozen=True)
class TeachingHours:
    """Weekly spans (weekday 0 = Monday) in one time zone."""

    spans: dict[int, tuple[tuple[time, time], ...]]
    timezone: str = DEFAULT_TIMEZONE
    _minutes: dict[int, bool | None] = field(default_factory=dict, compare=False, repr=False, hash=False)

    def zone(self) -> ZoneInfo:
        """The time zone as a tzinfo."""
        return ZoneInfo(self.timezone)

    def covers(self, at: datetime) -> bool:
        """Whether ``at`` (aware) falls within the hours, in local time."""
        local = at.astimezone(self.zone())
        t = local.time().replace(tzinfo=None)
        return any(start <= t < end for start, end in self.spans.get(local.weekday(), ()))

    def _minute(self, key: int) -> bool | None:
        """The answer for the whole UTC minute ``key`` (minutes since the epoch), None when it has two."""
        minutes = self._minutes
        if key in minutes:
            return minutes[key]
        if len(minutes) >= _CACHE_LIMIT:
            minutes.clear()
        start = _EPOCH + timedelta(minutes=key)
        last = start + timedelta(minutes=1, microseconds=-1)
        zone = self.zone()
        offset = start.astimezone(zone).utcoffset()
        same = offset == last.astimezone(zone).utcoffset() and offset is not None \
            and not offset % timedelta(minutes=1)
        answer = self.covers(start)
        # a span ending at 24:00 ends at the day's last microsecond: that minute has two answers too
        minutes[key] = answer if same and answer == self.covers(last) else None
        return minutes[key]

    def covers_us(self, us: int) -> bool:
        """:meth:`covers` for a moment in microseconds since the epoch (UTC)."""
        answer = self._minute(us // _MINUTE_US)
        return self.covers(_EPOCH + timedelta(microseconds=us)) if answer is None else answer

    def covers_at(self, at: datetime | int) -> bool:
        """:meth:`covers` for a datetime, :meth:`covers_us` for microseconds (the row judge takes both)."""
        return self.covers(at) if isinstance(at, datetime) else self.covers_us(at)

    def covers_stacked(self, times_us: Any, valid: Any) -> Any:
        """:meth:`covers_us` for every element of an int64 array where ``valid`` (False elsewhere)."""
        import numpy as np

        out = np.zeros(times_us.shape, dtype=bool)
        if not valid.any():
            return out
        picked = times_us[valid]
        keys, inverse = np.unique(picked // _MINUTE_US, return_inverse=True)
        answers = [self._minute(k) for k in keys.tolist()]
        got = np.array([bool(a) for a in answers], dtype=bool)[inverse.reshape(-1)]
        mixed = [i for i, a in enumerate(answers) if a is None]
        if mixed:  # a minute with two answers: each moment on its own
            for j in np.flatnonzero(np.isin(inverse.reshape(-1), mixed)).tolist():
                got[j] = self.covers_us(int(picked[j]))
        out[valid] = got
        return out


def _days(text: str) -> list[int]:
    out: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if "-" in part:
            a, _, b = (x.strip() for x in part.partition("-"))
            if a not in DAYS or b not in DAYS or DAYS.index(a) > DAYS.index(b):
                raise HoursError(f"{part!r} is not a range of days such as 'mon-fri'")
            out.extend(range(DAYS.index(a), DAYS.index(b) + 1))
        elif part in DAYS:
            out.append(DAYS.index(part))
        else:
            raise HoursError(f"{part!r} is not a day (one of {', '.join(DAYS)})")
    return out


def parse_hours(text: str, timezone: str = DEFAULT_TIMEZONE) -> TeachingHours:
    """``"mon,tue,thu,fri 08:30-16:30; wed 08:30-12:00"`` -> teaching spans.

    Parts are separated by ``;``; each names days (``mon``, ``mon-fri``,
    ``mon,tue``) then one or more ``HH:MM-HH:MM`` spans separated by spaces or
    commas. A day named twice gets every span given for it.
    """
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursError(f"unknown time zone {timezone!r}") from None
    spans: dict[int, list[tuple[time, time]]] = defaultdict(list)
    for part in (p for p in text.lower().split(";") if p.strip()):
        m = _PART.match(part)
        if not m:
            raise HoursError(f"{part.strip()!r}: expected days then spans, e.g. 'mon-fri 08:30-16:30'")
        days = _days(m.group("days"))
        for span in re.split(r"[\s,]+", m.group("spans").strip()):
            sm = _SPAN.match(span)
            if not sm:
                raise HoursError(f"{span!r} is not a span such as 08:30-16:30")
            h1, m1, h2, m2 = (int(g) for g in sm.groups())
            if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
                raise HoursError(f"{span!r} is not a time of day")
            start, end = time(h1, m1), time.max if h2 == 24 else time(h2, m2)
            if start >= end:
                raise HoursError(f"{span!r} ends before it starts")
            for d in days:
                spans[d].append((start, end))
    if not spans:
        raise HoursError("no teaching hours given")
    return TeachingHours({d: tuple(sorted(v)) for d, v in spans.items()}, timezone)


def hours_label(hours: TeachingHours) -> str:
    """Teaching hours back as text, one part per group of days with the same spans."""
    by_spans: dict[tuple[tuple[time, time], ...], list[int]] = defaultdict(list)
    for day in sorted(hours.spans):
        by_spans[hours.spans[day]].append(day)
    parts = []
    for spans, days in by_spans.items():
        text = " ".join(f"{a:%H:%M}-{'24:00' if b == time.max else f'{b:%H:%M}'}" for a, b in spans)
        parts.append(f"{','.join(DAYS[d] for d in days)} {text}")
    return "; ".join(parts)
