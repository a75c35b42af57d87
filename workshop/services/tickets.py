"""E-tickets: the one-page PDF a participant shows at the door (or prints).

``render_ticket_pdf`` takes plain, already formatted values and returns bytes; it knows
nothing of Flask or the database. ``ticket_data`` turns a registration into those values
in a given language, and ``register_mail_attachments`` (called by the app factory) adds
the PDF to the confirmation mails.
"""

import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from babel.dates import format_date
from flask import current_app
from flask_babel import get_locale
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from workshop.models import EventStatus, Registration, RegistrationStatus
from workshop.services import mail
from workshop.services.pdf import SANS, SANS_BOLD, draw_qr, fit_font_size, register_fonts
from workshop.timeutil import to_wib


@dataclass
class TicketData:
    """Plain, already formatted values: the renderer knows nothing of the app."""

    event_title: str
    date_text: str  # "Kamis, 8 Maret 2018 – Jumat, 9 Maret 2018"
    time_text: str  # "08.00 – 16.00 WIB"
    venue: str
    name: str
    affiliation: str  # unit or outside institution
    role_text: str  # "Peserta", "Narasumber", "Panitia"
    code: str  # the check-in code the QR encodes
    organizer: str
    labels: dict  # fixed text in the ticket's language


LABELS_ID = {
    "ticket": "E-TIKET KEGIATAN",
    "date": "Tanggal",
    "time": "Waktu",
    "venue": "Tempat",
    "name": "Nama",
    "unit": "Unit Kerja/Instansi",
    "role": "Peran",
    "code": "Kode presensi",
    "hint": "Tunjukkan kode QR ini kepada petugas di pintu masuk. Tiket ini pribadi.",
}
LABELS_EN = {
    "ticket": "EVENT E-TICKET",
    "date": "Date",
    "time": "Time",
    "venue": "Venue",
    "name": "Name",
    "unit": "Unit/Institution",
    "role": "Role",
    "code": "Check-in code",
    "hint": "Show this QR code to the staff at the entrance. This ticket is personal.",
}

ROLES_ID = {"participant": "Peserta", "speaker": "Narasumber", "committee": "Panitia"}
ROLES_EN = {"participant": "Participant", "speaker": "Speaker", "committee": "Committee"}
# Babel's built-in "full" format pads the day ("Kamis, 08 Maret 2018"); this does not.
DATE_PATTERN = "EEEE, d MMMM y"

# Why a registration has no valid ticket (None: it has one).
NOT_CONFIRMED, REGISTRATION_CANCELLED, EVENT_CANCELLED = (
    "not_confirmed",
    "registration_cancelled",
    "event_cancelled",
)


def ticket_problem(reg: Registration) -> str | None:
    """Only a confirmed registration for an event that is not cancelled has a valid ticket:
    a waitlisted or cancelled one shows no QR, and its QR and PDF are not served."""
    if reg.status == RegistrationStatus.CANCELLED:
        return REGISTRATION_CANCELLED
    if reg.status != RegistrationStatus.CONFIRMED:
        return NOT_CONFIRMED
    if reg.event.status == EventStatus.CANCELLED:
        return EVENT_CANCELLED
    return None


def _date_text(start: datetime, end: datetime, locale: str) -> str:
    first, last = to_wib(start).date(), to_wib(end).date()
    days = [first] if first == last else [first, last]
    return " – ".join(format_date(d, DATE_PATTERN, locale=locale) for d in days)


def _time_text(start: datetime, end: datetime, locale: str) -> str:
    fmt = "%H.%M" if locale == "id" else "%H:%M"  # Indonesian writes 08.30
    return f"{to_wib(start).strftime(fmt)} – {to_wib(end).strftime(fmt)} WIB"


def ticket_data(reg: Registration, *, locale: str, organizer: str) -> TicketData:
    """The ticket of ``reg`` with dates, times, role and labels in ``locale`` ("id" or
    "en"; anything else is Indonesian). ``organizer`` is the government's name."""
    locale = "en" if str(locale).split("_")[0] == "en" else "id"
    event = reg.event
    if event.unit is not None:
        organizer = f"{event.unit.name} · {organizer}"
    roles = ROLES_EN if locale == "en" else ROLES_ID
    return TicketData(
        event_title=event.title,
        date_text=_date_text(event.starts_at, event.ends_at, locale),
        time_text=_time_text(event.starts_at, event.ends_at, locale),
        venue=event.venue,
        name=reg.name,
        affiliation=reg.affiliation,
        role_text=roles.get(reg.role, roles["participant"]),
        code=reg.check_in_code,
        organizer=organizer,
        labels=LABELS_EN if locale == "en" else LABELS_ID,
    )


_LETTERS = str.maketrans(
    {
        "đ": "d",
        "Đ": "D",
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ı": "i",
    }
)


def ticket_filename(name: str) -> str:
    """'e-tiket-ir-h-abdul-najib-mm.pdf': ASCII letters, digits and hyphens only, so the
    name is valid on Windows, macOS and Linux and needs no quoting in a header."""
    ascii_name = unicodedata.normalize("NFKD", name.translate(_LETTERS))
    ascii_name = ascii_name.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:60].rstrip("-")
    return f"e-tiket-{slug}.pdf" if slug else "e-tiket.pdf"


def ticket_attachment(
    reg: Registration, *, locale: str, organizer: str
) -> tuple[str, str, bytes] | None:
    """(filename, content type, PDF) of the ticket, or None without a valid ticket."""
    if ticket_problem(reg) is not None:
        return None
    pdf = render_ticket_pdf(ticket_data(reg, locale=locale, organizer=organizer))
    return ticket_filename(reg.name), "application/pdf", pdf


def _mail_attachment(reg: Registration) -> tuple[str, str, bytes] | None:
    # Mail is built under force_locale(the mail's locale): the ticket speaks its language.
    return ticket_attachment(
        reg, locale=str(get_locale() or "id"), organizer=current_app.config["ORGANIZATION_NAME"]
    )


TICKET_MAIL_KINDS = ("registration.confirmed", "registration.promoted")


def register_mail_attachments() -> None:
    """Attach the PDF ticket to the mails that confirm a place (idempotent)."""
    mail.ATTACHMENTS["ticket_pdf"] = _mail_attachment
    for kind in TICKET_MAIL_KINDS:
        kinds = mail.KIND_ATTACHMENTS.setdefault(kind, [])
        if "ticket_pdf" not in kinds:
            kinds.append("ticket_pdf")


def render_ticket_pdf(ticket: TicketData) -> bytes:
    """One A4 portrait page: event, date, venue, participant, QR of the check-in code."""
    register_fonts()
    out = io.BytesIO()
    width, height = A4
    c = Canvas(out, pagesize=A4, pageCompression=1)
    c.setTitle(f"{ticket.labels['ticket']} – {ticket.event_title}")
    c.setAuthor(ticket.organizer)
    margin = 20 * mm
    inner = width - 2 * margin

    c.setFillColorRGB(0.043, 0.239, 0.431)
    c.rect(0, height - 28 * mm, width, 28 * mm, stroke=0, fill=1)
    c.setFillColorRGB(1, 1, 1)
    c.setFont(SANS_BOLD, 16)
    c.drawString(margin, height - 14 * mm, ticket.labels["ticket"])
    c.setFont(SANS, 10)
    c.drawString(margin, height - 21 * mm, ticket.organizer)

    c.setFillColorRGB(0, 0, 0)
    y = height - 42 * mm
    c.setFont(SANS_BOLD, 15)
    for line in simpleSplit(ticket.event_title, SANS_BOLD, 15, inner)[:3]:
        c.drawString(margin, y, line)
        y -= 7 * mm
    y -= 3 * mm
    for key, value in (
        ("date", ticket.date_text),
        ("time", ticket.time_text),
        ("venue", ticket.venue),
    ):
        c.setFont(SANS, 9)
        c.setFillColorRGB(0.3, 0.3, 0.3)
        c.drawString(margin, y, ticket.labels[key])
        c.setFillColorRGB(0, 0, 0)
        c.setFont(SANS, 11)
        for line in simpleSplit(value, SANS, 11, inner - 35 * mm)[:3]:
            c.drawString(margin + 35 * mm, y, line)
            y -= 5.5 * mm
        y -= 1.5 * mm

    qr_size = 90 * mm
    qr_y = y - qr_size - 6 * mm
    draw_qr(c, ticket.code, (width - qr_size) / 2, qr_y, qr_size)
    y = qr_y - 8 * mm
    name_size = fit_font_size(ticket.name, SANS_BOLD, 18, inner)
    c.setFont(SANS_BOLD, name_size)
    c.drawCentredString(width / 2, y, ticket.name)
    y -= 7 * mm
    c.setFont(SANS, 11)
    for line in simpleSplit(ticket.affiliation, SANS, 11, inner)[:2]:
        c.drawCentredString(width / 2, y, line)
        y -= 5.5 * mm
    c.drawCentredString(width / 2, y, f"{ticket.labels['role']}: {ticket.role_text}")
    y -= 10 * mm
    c.setFont(SANS, 8)
    c.drawCentredString(width / 2, y, f"{ticket.labels['code']}: {ticket.code}")
    y -= 8 * mm
    c.setFont(SANS, 9)
    c.setFillColorRGB(0.3, 0.3, 0.3)
    c.drawCentredString(width / 2, y, ticket.labels["hint"])
    c.showPage()
    c.save()
    return out.getvalue()
