"""Template filters: dates and times in WIB, in the user's language."""

from datetime import date, datetime

from flask_babel import format_date, get_locale

from workshop.timeutil import to_wib

# Babel's built-in "full" format pads the day ("Kamis, 08 Maret 2018"); this does not.
DATE_PATTERN = "EEEE, d MMMM y"


def long_date(value: date | datetime | None) -> str:
    """'Kamis, 8 Maret 2018' (WIB for datetimes)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_wib(value).date()
    return format_date(value, DATE_PATTERN)


def short_date(value: date | datetime | None) -> str:
    """'8 Mar 2018'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_wib(value).date()
    return format_date(value, "d MMM y")


def wib_time(value: datetime | None) -> str:
    """'08.30 WIB' in Indonesian, '08:30 WIB' in English."""
    if value is None:
        return ""
    sep = "." if str(get_locale()) == "id" else ":"
    return to_wib(value).strftime(f"%H{sep}%M") + " WIB"


def datetime_wib(value: datetime | None) -> str:
    """'Kamis, 8 Maret 2018, 08.30 WIB'."""
    if value is None:
        return ""
    return f"{long_date(value)}, {wib_time(value)}"


def date_range(start: datetime, end: datetime) -> str:
    """One day: 'Kamis, 8 Maret 2018'; several: 'Kamis, 8 Maret 2018 – Jumat, 9 Maret 2018'."""
    first, last = to_wib(start).date(), to_wib(end).date()
    if first == last:
        return long_date(first)
    return f"{long_date(first)} – {long_date(last)}"


def local_input(value: datetime | None) -> str:
    """A datetime as the value of an <input type=datetime-local>, in WIB."""
    return to_wib(value).strftime("%Y-%m-%dT%H:%M") if value else ""


FILTERS = {
    "long_date": long_date,
    "short_date": short_date,
    "wib_time": wib_time,
    "datetime_wib": datetime_wib,
    "date_range": date_range,
    "local_input": local_input,
}
