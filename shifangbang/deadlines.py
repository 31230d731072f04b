"""Legal deadlines in Chinese working days: official holidays and make-up working days (调休) count
as the State Council publishes them, through the chinese-calendar package.

The State Council publishes next year's holidays each November and the package follows some
weeks later. For a year the package does not know yet we count Monday to Friday less the
statutory days fixed by the solar calendar (元旦 1/1, 劳动节 5/1–2, 国庆 10/1–3, 清明) and say so
(`provisional`) rather than refuse a submission. The lunar holidays (春节, 端午, 中秋) and the
make-up days are unknown then, so a provisional date can only be early, never late: the
safe side for a legal deadline.

Every December: bump chinese-calendar in pyproject.toml and run `make lock` (a changed lock makes
`make` reinstall), deploy, then `flask deadlines recompute` recounts the provisional due dates of
open items (`--all` for every open item), each change audited.
"""

from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=64)
def has_official_calendar(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
        return True
    except NotImplementedError:
        return False


# 全国年节及纪念日放假办法 (2024 revision): the statutory days with fixed Gregorian dates.
_FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}


@lru_cache(maxsize=64)
def _qingming(year: int) -> date:
    return next(
        d
        for d, name in chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 10))
        if name == "清明"
    )


@lru_cache(maxsize=4096)  # a pure function of the date and the installed calendar
def is_working_day(day: date) -> bool:
    if has_official_calendar(day.year):
        return chinese_calendar.is_workday(day)
    if day.weekday() >= 5 or (day.month, day.day) in _FIXED_HOLIDAYS:
        return False
    return day != _qingming(day.year)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` (the start day itself does not count)."""
    day = start
    while n > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def add_days(start: date, n: int) -> date:
    """Calendar-day periods (mediation 60 days, case 90 days)."""
    return start + timedelta(days=n)


def period_end(start: date, n: int) -> date:
    """The last day of an n-day period counted from `start` (exclusive). A period whose last day
    is a holiday or rest day ends on the next working day (行政处罚法/民事诉讼法 期间规则)."""
    day = add_days(start, n)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def provisional(start: date, end: date) -> bool:
    """True when any year between start and end has no published holiday calendar yet."""
    return any(not has_official_calendar(y) for y in range(start.year, end.year + 1))
