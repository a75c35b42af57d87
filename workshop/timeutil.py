"""Time zone helpers. Stored times are UTC; people read them in WIB (Asia/Jakarta)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive value is read as WIB (the users' wall clock)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=WIB)
    return value.astimezone(UTC)


def to_wib(value: datetime) -> datetime:
    return value.astimezone(WIB)


def wib_date(value: datetime) -> date:
    return to_wib(value).date()


def dates_between(start: datetime, end: datetime) -> list[date]:
    """Every calendar day in WIB from ``start`` to ``end``, both included."""
    first, last = wib_date(start), wib_date(end)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
