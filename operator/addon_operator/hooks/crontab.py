"""Crontab expressions of `schedule` bindings: parsing, validation and the next fire time.

The accepted language is the one shell-operator's hooks rely on (robfig/cron v2):
- 5 fields `min hour dom month dow`, or 6 fields with seconds first; with 5 fields the second
  is 0;
- `*` and `?` (any), values, ranges `a-b`, steps `/n` (`a/n` means `a-max/n`), lists `,`,
  month names `JAN`..`DEC` and day names `SUN`..`SAT` (case-insensitive); dow is 0-6, 0 = Sunday;
- when both day fields are restricted a day matches if either does; when one of them starts
  with `*` or `?` both must match;
- descriptors `@yearly` `@annually` `@monthly` `@weekly` `@daily` `@midnight` `@hourly` and
  `@every <Go duration>` (rounded down to whole seconds, at least 1s, counted from "now");
- an optional `TZ=Area/City ` (or `CRON_TZ=`) prefix; without it the caller's time zone is used.

`config.py` calls `parse_crontab` to validate bindings; the scheduler calls `Crontab.next_after`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .durations import parse_go_duration


class CrontabError(ValueError):
    """The crontab text is invalid; the message says which part and why."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] stands for low + i


_SECOND = _Field("second", 0, 59)
_MINUTE = _Field("minute", 0, 59)
_HOUR = _Field("hour", 0, 23)
_DOM = _Field("day of month", 1, 31)
_MONTH = _Field(
    "month", 1, 12,
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
)
_DOW = _Field("day of week", 0, 6, ("sun", "mon", "tue", "wed", "thu", "fri", "sat"))
_FIELDS = (_SECOND, _MINUTE, _HOUR, _DOM, _MONTH, _DOW)

_DESCRIPTORS = {
    "@yearly": "0 0 0 1 1 *",
    "@annually": "0 0 0 1 1 *",
    "@monthly": "0 0 0 1 * *",
    "@weekly": "0 0 0 * * 0",
    "@daily": "0 0 0 * * *",
    "@midnight": "0 0 0 * * *",
    "@hourly": "0 0 * * * *",
}
_TZ_PREFIXES = ("TZ=", "CRON_TZ=")
_SEARCH_YEARS = 5  # an expression that matches nothing within this horizon never fires


@dataclass(frozen=True)
class Crontab:
    """A parsed crontab. Either `every` is set (a constant delay) or the six value sets are."""

    expr: str
    zone: ZoneInfo | None = None
    every: timedelta | None = None
    seconds: frozenset[int] = frozenset()
    minutes: frozenset[int] = frozenset()
    hours: frozenset[int] = frozenset()
    days_of_month: frozenset[int] = frozenset()
    months: frozenset[int] = frozenset()
    days_of_week: frozenset[int] = frozenset()
    dom_any: bool = False  # the day-of-month field started with * or ?
    dow_any: bool = False

    def next_after(self, moment: datetime) -> datetime | None:
        """The first fire time strictly after `moment`, or None if there is none in 5 years.

        With a `TZ=` prefix the result is in that zone (`moment` must then be aware); otherwise
        it is in `moment`'s own zone (naive in, naive out).
        """
        if self.zone is not None:
            if moment.tzinfo is None:
                raise ValueError(f"crontab {self.expr!r} has a time zone: pass an aware datetime")
            moment = moment.astimezone(self.zone)
        if self.every is not None:
            return moment.replace(microsecond=0) + self.every
        zone = moment.tzinfo
        wall = moment.replace(tzinfo=None, microsecond=0) + timedelta(seconds=1)
        limit = wall.year + _SEARCH_YEARS
        while wall.year <= limit:
            step = self._skip(wall)
            if step is None:
                candidate = wall.replace(tzinfo=zone)
                if zone is None or _exists_after(candidate, moment):
                    return candidate
                wall += timedelta(seconds=1)
            else:
                wall = step
        return None

    def _skip(self, wall: datetime) -> datetime | None:
        """None if `wall` matches; otherwise the next wall time worth checking."""
        if wall.month not in self.months:
            year, month = (wall.year + 1, 1) if wall.month == 12 else (wall.year, wall.month + 1)
            return datetime(year, month, 1)
        if not self._day_matches(wall):
            return datetime(wall.year, wall.month, wall.day) + timedelta(days=1)
        if wall.hour not in self.hours:
            return wall.replace(minute=0, second=0) + timedelta(hours=1)
        if wall.minute not in self.minutes:
            return wall.replace(second=0) + timedelta(minutes=1)
        if wall.second not in self.seconds:
            return wall + timedelta(seconds=1)
        return None

    def _day_matches(self, wall: datetime) -> bool:
        dom = wall.day in self.days_of_month
        dow = (wall.isoweekday() % 7) in self.days_of_week
        if self.dom_any or self.dow_any:
            return dom and dow
        return dom or dow


def _exists_after(candidate: datetime, moment: datetime) -> bool:
    """The aware wall time exists (not in a DST gap) and lies after `moment`."""
    utc = candidate.astimezone(ZoneInfo("UTC"))
    round_trip = utc.astimezone(candidate.tzinfo).replace(tzinfo=None)
    return round_trip == candidate.replace(tzinfo=None) and utc > moment


def parse_crontab(expr: str) -> Crontab:
    """Parse a crontab expression; raise `CrontabError` saying what is wrong."""
    if not isinstance(expr, str) or not expr.strip():
        raise CrontabError("empty crontab")
    spec = expr.strip()
    zone = None
    for prefix in _TZ_PREFIXES:
        if spec.startswith(prefix):
            zone_name, _, spec = spec[len(prefix):].partition(" ")
            zone = _load_zone(zone_name)
            spec = spec.strip()
            break
    if spec.startswith("@every"):
        return Crontab(expr=expr, zone=zone, every=_every(spec))
    if spec.startswith("@"):
        if spec not in _DESCRIPTORS:
            raise CrontabError(
                f"unknown descriptor {spec!r} (known: {', '.join(_DESCRIPTORS)}, @every <duration>)"
            )
        spec = _DESCRIPTORS[spec]
    fields = spec.split()
    if len(fields) not in (5, 6):
        raise CrontabError(f"expected 5 or 6 fields, found {len(fields)}")
    if len(fields) == 5:
        fields.insert(0, "0")
    sets = [_parse_field(text, field) for text, field in zip(fields, _FIELDS)]
    return Crontab(
        expr=expr,
        zone=zone,
        seconds=sets[0],
        minutes=sets[1],
        hours=sets[2],
        days_of_month=sets[3],
        months=sets[4],
        days_of_week=sets[5],
        dom_any=fields[3][:1] in ("*", "?"),
        dow_any=fields[5][:1] in ("*", "?"),
    )


def _load_zone(name: str) -> ZoneInfo:
    if not name:
        raise CrontabError("empty time zone after TZ=")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CrontabError(f"unknown time zone {name!r}") from exc


def _every(spec: str) -> timedelta:
    text = spec[len("@every"):].strip()
    if not text:
        raise CrontabError("@every needs a duration, e.g. '@every 1h30m'")
    try:
        delay = parse_go_duration(text)
    except ValueError as exc:
        raise CrontabError(f"@every: {exc}") from exc
    whole = timedelta(seconds=int(delay.total_seconds()))
    return max(whole, timedelta(seconds=1))


def _parse_field(text: str, field: _Field) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        values.update(_parse_range(part, field))
    return frozenset(values)


def _parse_range(part: str, field: _Field) -> range:
    where = f"{field.name} field {part!r}"
    range_text, slash, step_text = part.partition("/")
    if "/" in step_text:
        raise CrontabError(f"{where}: too many slashes")
    if range_text in ("*", "?"):
        start, end = field.low, field.high
    else:
        low_text, dash, high_text = range_text.partition("-")
        if "-" in high_text:
            raise CrontabError(f"{where}: too many hyphens")
        start = _value(low_text, field, where)
        end = _value(high_text, field, where) if dash else start
        if slash and not dash:
            end = field.high
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) == 0:
            raise CrontabError(f"{where}: step must be a positive integer")
        step = int(step_text)
    if start < field.low:
        raise CrontabError(f"{where}: {start} is below the minimum {field.low}")
    if end > field.high:
        raise CrontabError(f"{where}: {end} is above the maximum {field.high}")
    if start > end:
        raise CrontabError(f"{where}: range start {start} is beyond its end {end}")
    return range(start, end + 1, step)


def _value(text: str, field: _Field, where: str) -> int:
    if not text:
        raise CrontabError(f"{where}: a value is missing")
    lowered = text.lower()
    if lowered in field.names:
        return field.low + field.names.index(lowered)
    if not text.isdigit():
        raise CrontabError(f"{where}: {text!r} is not a number" + (
            f" or a name ({', '.join(n.upper() for n in field.names)})" if field.names else ""
        ))
    return int(text)
