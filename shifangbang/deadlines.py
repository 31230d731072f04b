"""Legal deadlines in Chinese working days: official holidays and make-up working days (调休) count
as the State Council publishes them, through the chinese-calendar package."""
from datetime import date, timedelta

import chinese_calendar


def is_working_day(day: date) -> bool:
    return chinese_calendar.is_workday(day)


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
