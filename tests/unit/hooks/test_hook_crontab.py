"""Crontab parsing (every accepted and rejected form) and next-fire computation; Go durations."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from addon_operator.hooks import CrontabError, parse_crontab, parse_go_duration

BASE = datetime(2024, 1, 15, 10, 20, 30)  # a Monday


def nxt(expr: str, moment: datetime = BASE) -> datetime | None:
    return parse_crontab(expr).next_after(moment)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("* * * * *", datetime(2024, 1, 15, 10, 21, 0)),
        ("*/15 * * * *", datetime(2024, 1, 15, 10, 30, 0)),
        ("5 * * * *", datetime(2024, 1, 15, 11, 5, 0)),
        ("0 9-17/4 * * *", datetime(2024, 1, 15, 13, 0, 0)),
        ("0 0 1,15 * *", datetime(2024, 2, 1)),
        ("* * * * * *", datetime(2024, 1, 15, 10, 20, 31)),
        ("*/10 * * * * *", datetime(2024, 1, 15, 10, 20, 40)),
        ("45 20 10 * * ?", datetime(2024, 1, 15, 10, 20, 45)),
        ("0 0 12 * * MON-FRI", datetime(2024, 1, 15, 12, 0, 0)),
        ("0 12 * * sat,sun", datetime(2024, 1, 20, 12, 0, 0)),
        ("0 0 1 JAN-MAR *", datetime(2024, 2, 1)),
        ("0 0 * Feb *", datetime(2024, 2, 1)),
        ("30 */2 * * *", datetime(2024, 1, 15, 10, 30, 0)),
        ("0 10/5 * * *", datetime(2024, 1, 15, 15, 0, 0)),
        ("0 0 29 2 *", datetime(2024, 2, 29)),
        ("@yearly", datetime(2025, 1, 1)),
        ("@annually", datetime(2025, 1, 1)),
        ("@monthly", datetime(2024, 2, 1)),
        ("@weekly", datetime(2024, 1, 21)),  # Sunday
        ("@daily", datetime(2024, 1, 16)),
        ("@midnight", datetime(2024, 1, 16)),
        ("@hourly", datetime(2024, 1, 15, 11, 0, 0)),
    ],
)
def test_next_fire_time(expr: str, expected: datetime) -> None:
    assert nxt(expr) == expected


def test_restricted_dom_and_dow_match_either() -> None:
    # The 20th, or any Wednesday: the first after Monday 15th is Wednesday 17th.
    assert nxt("0 0 20 * WED") == datetime(2024, 1, 17)


def test_star_dom_with_restricted_dow_requires_both() -> None:
    assert nxt("0 0 * * 3") == datetime(2024, 1, 17)
    # ? in the dom field behaves like *
    assert nxt("0 0 0 ? * 3") == datetime(2024, 1, 17)


def test_next_is_strictly_after_a_matching_moment() -> None:
    assert nxt("30 20 10 * * *") == datetime(2024, 1, 16, 10, 20, 30)
    assert nxt("* * * * *", datetime(2024, 1, 15, 10, 21, 0, 500)) == datetime(2024, 1, 15, 10, 22)


def test_every_duration_is_relative_and_rounded_to_seconds() -> None:
    moment = datetime(2024, 1, 15, 10, 20, 30, 700_000)
    assert nxt("@every 1h30m", moment) == datetime(2024, 1, 15, 11, 50, 30)
    assert nxt("@every 10s", moment) == datetime(2024, 1, 15, 10, 20, 40)
    assert parse_crontab("@every 1.9s").every == timedelta(seconds=1)
    assert parse_crontab("@every 100ms").every == timedelta(seconds=1)


def test_time_zone_prefix() -> None:
    crontab = parse_crontab("TZ=Europe/Berlin 0 9 * * *")
    assert crontab.zone == ZoneInfo("Europe/Berlin")
    result = crontab.next_after(datetime(2024, 1, 15, 10, 0, tzinfo=timezone.utc))
    assert result == datetime(2024, 1, 16, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert result.astimezone(timezone.utc).hour == 8
    cron_tz = parse_crontab("CRON_TZ=America/New_York @daily")
    # 03:00 UTC is 22:00 the day before in New York: the next midnight there is Jan 15.
    assert cron_tz.next_after(datetime(2024, 1, 15, 3, 0, tzinfo=timezone.utc)) == datetime(
        2024, 1, 15, 0, 0, tzinfo=ZoneInfo("America/New_York")
    )


def test_zone_needs_aware_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_crontab("TZ=UTC * * * * *").next_after(BASE)


def test_without_zone_uses_the_moments_zone() -> None:
    moment = datetime(2024, 1, 15, 10, 20, 30, tzinfo=timezone(timedelta(hours=3)))
    assert nxt("0 11 * * *", moment) == datetime(2024, 1, 15, 11, 0, tzinfo=timezone(timedelta(hours=3)))


def test_skips_wall_times_in_a_dst_gap() -> None:
    # 2024-03-31 02:30 does not exist in Berlin (clocks jump 02:00 -> 03:00).
    berlin = ZoneInfo("Europe/Berlin")
    result = parse_crontab("TZ=Europe/Berlin 30 2 * * *").next_after(
        datetime(2024, 3, 30, 12, 0, tzinfo=berlin)
    )
    assert result == datetime(2024, 4, 1, 2, 30, tzinfo=berlin)


def test_never_matching_expression_has_no_next_time() -> None:
    assert nxt("0 0 30 2 *") is None


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("", "empty crontab"),
        ("* * * *", "expected 5 or 6 fields, found 4"),
        ("* * * * * * *", "expected 5 or 6 fields, found 7"),
        ("60 * * * *", "minute field '60': 60 is above the maximum 59"),
        ("* 24 * * *", "hour field '24': 24 is above the maximum 23"),
        ("* * 0 * *", "day of month field '0': 0 is below the minimum 1"),
        ("* * * 13 *", "month field '13': 13 is above the maximum 12"),
        ("* * * * 7", "day of week field '7': 7 is above the maximum 6"),
        ("* * * * MOO", "day of week field 'MOO': 'MOO' is not a number or a name (SUN, MON"),
        ("* * * JANUARY *", "month field 'JANUARY': 'JANUARY' is not a number or a name"),
        ("5-1 * * * *", "minute field '5-1': range start 5 is beyond its end 1"),
        ("1-2-3 * * * *", "too many hyphens"),
        ("*/2/3 * * * *", "too many slashes"),
        ("*/0 * * * *", "step must be a positive integer"),
        ("*/x * * * *", "step must be a positive integer"),
        ("a * * * *", "minute field 'a': 'a' is not a number"),
        ("-1 * * * *", "minute field '-1': a value is missing"),
        ("@fortnightly", "unknown descriptor '@fortnightly'"),
        ("@every", "@every needs a duration"),
        ("@every 5 minutes", "@every: invalid duration '5 minutes'"),
        ("TZ=Mars/Olympus * * * * *", "unknown time zone 'Mars/Olympus'"),
        ("TZ= * * * * *", "empty time zone after TZ="),
    ],
)
def test_rejected_crontabs(expr: str, message: str) -> None:
    with pytest.raises(CrontabError) as err:
        parse_crontab(expr)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0), ("10s", 10), ("1h30m", 5400), ("1.5h", 5400), ("300ms", 0.3), ("2m3.5s", 123.5),
        ("-1m", -60), ("+5s", 5), ("1500us", 0.0015), ("1µs", 0.000001), (".5s", 0.5), ("1h0m0s", 3600),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text).total_seconds() == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "1d", "s", "1 h", "-", "1h-5m", "1.2.3s"])
def test_invalid_go_durations(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_go_duration(text)
