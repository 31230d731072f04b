"""One notion of 'now' and 'today' for the whole product: UTC timestamps, China local dates."""

from datetime import UTC, date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def utcnow() -> datetime:
    """Naive UTC, as stored in the database (SQLite keeps no time zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def today() -> date:
    """The calendar date in China, which is what deadlines and public dates are counted in."""
    return datetime.now(CHINA).date()


def local(dt: datetime | None) -> datetime | None:
    """A stored naive-UTC timestamp as China local time, for display."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC).astimezone(CHINA)


def local_day_start(day: date) -> datetime:
    """China-local midnight of `day` as stored naive UTC: bounds for 'created on/after day' queries."""
    return datetime.combine(day, datetime.min.time(), CHINA).astimezone(UTC).replace(tzinfo=None)
