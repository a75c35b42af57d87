"""Turn report data into the plain, formatted values the PDF renderers take.

Official documents (daftar hadir, JP recap) are written in Indonesian whatever the
interface language: they go into Indonesian files.
"""

import re
from datetime import date, datetime

from babel.dates import format_date

from workshop.models import CertificateSettings, Event, EventDay, User, db
from workshop.services.attendance_pdf import (
    LABELS_ID,
    AttendanceLine,
    AttendanceSheet,
    RecapLine,
    RecapSheet,
    RecapYear,
    Signature,
)
from workshop.services.jp_recap import PersonRef, YearRecap
from workshop.services.reports import JP_TARGET, Person, format_nip
from workshop.timeutil import to_wib

DATE_PATTERN = "EEEE, d MMMM y"  # "Kamis, 8 Maret 2018" (the full format pads the day)
DEFAULT_POSITION = "Penanggung Jawab Kegiatan"


def long_date_id(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = to_wib(value).date()
    return format_date(value, DATE_PATTERN, locale="id")


def short_date_id(value: date | datetime) -> str:
    """'8 Maret 2018'."""
    if isinstance(value, datetime):
        value = to_wib(value).date()
    return format_date(value, "d MMMM y", locale="id")


def place_of(organization: str) -> str:
    """'Pemerintah Kabupaten Muara Enim' -> 'Muara Enim' (the place a letter is signed)."""
    match = re.search(r"\b(?:Kabupaten|Kota|Provinsi)\s+(.+)$", organization or "")
    return match.group(1).strip() if match else (organization or "").strip()


def signature(event: Event, on: date, organization: str) -> Signature:
    """The organizer's signature block: the certificate settings' place when set, else
    the regency's; the event owner's position, name and NIP."""
    owner = db.session.get(User, event.owner_id)
    settings = db.session.scalar(
        db.select(CertificateSettings).where(CertificateSettings.event_id == event.id)
    )
    place = (
        settings.sign_place
        if settings is not None and settings.sign_place
        else place_of(organization)
    )
    nip = format_nip(owner.nip, owner.employment_status) if owner and owner.nip else ""
    return Signature(
        place_date=f"{place}, {short_date_id(on)}",
        position=f"{(owner.position if owner and owner.position else DEFAULT_POSITION)},",
        name=owner.name if owner else "",
        nip=f"NIP. {nip}" if nip else "",
    )


def attendance_sheet(
    event: Event, day: EventDay, people: list[Person], *, blank: bool, organization: str
) -> AttendanceSheet:
    lines = [
        AttendanceLine(
            name=p.name,
            nip=p.nip,
            position=p.position,
            affiliation=p.affiliation,
            time_text=""
            if blank or p.checkins[0] is None
            else to_wib(p.checkins[0]).strftime("%H.%M"),
        )
        for p in people
    ]
    return AttendanceSheet(
        organization=organization,
        unit=event.unit.name if event.unit is not None else "",
        event_title=event.title,
        day_text=long_date_id(day.date),
        venue=event.venue,
        lines=lines,
        signature=signature(event, day.date, organization),
        labels=LABELS_ID,
        blank=blank,
    )


def _date_span(start: datetime, end: datetime) -> str:
    first, last = to_wib(start).date(), to_wib(end).date()
    if first == last:
        return short_date_id(first)
    return f"{short_date_id(first)} – {short_date_id(last)}"


def recap_sheet(
    person: PersonRef, years: list[YearRecap], *, organization: str, now: datetime
) -> RecapSheet:
    return RecapSheet(
        organization=organization,
        name=person.name,
        nip=person.nip_text,
        affiliation=person.affiliation,
        years=[
            RecapYear(
                y.year,
                [
                    RecapLine(
                        r.title,
                        _date_span(r.starts_at, r.ends_at),
                        r.certificate_number or "–",
                        r.jp,
                    )
                    for r in y.rows
                ],
                y.total,
            )
            for y in years
        ],
        printed_text=f"{long_date_id(now)}, {to_wib(now).strftime('%H.%M')} WIB",
        target=JP_TARGET,
    )
