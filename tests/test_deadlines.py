"""Working-day arithmetic across the 2026 holidays as chinese-calendar publishes them, and the
provisional counting for a year it has not published yet (2027 at the time of writing)."""

from datetime import date, timedelta

import chinese_calendar
import pytest

from shifangbang import deadlines


def test_library_data_for_2026_national_day_and_make_up_days():
    # 2026: 国庆 10/1–10/7, 中秋 9/25–9/27; make-up working days Sunday 9/20 and Saturday 10/10.
    for day in range(1, 8):
        assert not deadlines.is_working_day(date(2026, 10, day))
    assert deadlines.is_working_day(date(2026, 9, 20)) and date(2026, 9, 20).weekday() == 6
    assert deadlines.is_working_day(date(2026, 10, 10)) and date(2026, 10, 10).weekday() == 5
    assert not deadlines.is_working_day(date(2026, 9, 25))  # a Friday, 中秋


def test_library_data_for_2026_spring_festival_and_make_up_days():
    # 2026 春节: 2/15–2/23 off; Saturdays 2/14 and 2/28 are working days.
    for day in range(15, 24):
        assert not deadlines.is_working_day(date(2026, 2, day))
    assert deadlines.is_working_day(date(2026, 2, 14)) and date(2026, 2, 14).weekday() == 5
    assert deadlines.is_working_day(date(2026, 2, 28)) and date(2026, 2, 28).weekday() == 5


@pytest.mark.parametrize(
    "start,n,expected",
    [
        # Wed 9/30 + 7: Thu 10/8, Fri 10/9, Sat 10/10 (make-up), Mon 10/12 … Thu 10/15.
        (date(2026, 9, 30), 7, date(2026, 10, 15)),
        # Fri 9/18 + 7: Sun 9/20 (make-up) counts, 9/25–9/27 (中秋) and 10/1–10/7 do not.
        (date(2026, 9, 18), 7, date(2026, 9, 29)),
        (date(2026, 9, 18), 15, date(2026, 10, 15)),
        # A holiday start day: counting begins on the first working day after it.
        (date(2026, 10, 3), 1, date(2026, 10, 8)),
        # Thu 2/12 + 15: Fri 2/13, Sat 2/14 (make-up), 2/24–2/27, Sat 2/28 (make-up), 3/2 … 3/11.
        (date(2026, 2, 12), 15, date(2026, 3, 11)),
        # … and +15 more after an extension.
        (date(2026, 2, 12), 30, date(2026, 4, 1)),
        # Complaint acceptance received on the eve of Spring Festival.
        (date(2026, 2, 13), 7, date(2026, 3, 2)),
    ],
)
def test_add_working_days_across_2026_holidays(start, n, expected):
    assert deadlines.add_working_days(start, n) == expected
    assert not deadlines.provisional(start, expected)


def test_add_working_days_matches_a_plain_count_of_library_workdays():
    start = date(2026, 1, 1)
    for n in (1, 7, 15, 30, 100):
        got = deadlines.add_working_days(start, n)
        days = [start + timedelta(days=i) for i in range(1, (got - start).days + 1)]
        assert sum(chinese_calendar.is_workday(d) for d in days) == n
        assert chinese_calendar.is_workday(got)


def test_calendar_periods_end_on_a_working_day():
    # A case opened 7/3 has 90 days: 10/1 is National Day, so the period ends on Thu 10/8.
    assert deadlines.add_days(date(2026, 7, 3), 90) == date(2026, 10, 1)
    assert deadlines.period_end(date(2026, 7, 3), 90) == date(2026, 10, 8)
    # Mediation accepted 12/17/2025 + 60 days = 2/15/2026, inside Spring Festival → Tue 2/24.
    assert deadlines.period_end(date(2025, 12, 17), 60) == date(2026, 2, 24)
    # A period ending on an ordinary working day is not moved; one ending in 劳动节 (5/1–5/5) is.
    assert deadlines.period_end(date(2026, 3, 9), 60) == date(2026, 5, 8)
    assert deadlines.period_end(date(2026, 3, 3), 60) == date(2026, 5, 6)


def test_spring_festival_2027_is_provisional_until_the_library_publishes_it():
    """chinese-calendar 1.11 knows years up to 2026. If a later version knows 2027, the dates
    must come from it (and stop being provisional)."""
    if deadlines.has_official_calendar(2027):
        assert not deadlines.provisional(date(2027, 2, 1), date(2027, 2, 28))
        # 2027 春节 is 2/6 (初一): it must be a rest day in the official data.
        assert not deadlines.is_working_day(date(2027, 2, 6))
        return
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 2, 8))
    assert deadlines.provisional(date(2026, 12, 28), date(2027, 1, 7))
    # Until then: Monday to Friday less the fixed-date statutory days. Across the new year:
    # Mon 12/28/2026 + 7 = 12/29, 12/30, 12/31, (1/1 元旦 off, 1/2–1/3 weekend), 1/4 … 1/7.
    assert deadlines.add_working_days(date(2026, 12, 28), 7) == date(2027, 1, 7)
    # Across Spring Festival 2027 (除夕 2/5, 初一 2/6) the lunar days are not known yet, so the
    # date is early (a safe deadline): Wed 2/3 + 7 = Thu 2/4 … Fri 2/12, weekdays only.
    assert deadlines.add_working_days(date(2027, 2, 3), 7) == date(2027, 2, 12)
    assert deadlines.is_working_day(date(2027, 2, 5))  # provisional: not yet a holiday
    assert not deadlines.is_working_day(date(2027, 4, 5))  # 清明, from the solar terms
    assert not deadlines.is_working_day(date(2027, 10, 1))
