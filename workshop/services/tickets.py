"""E-tickets: the one-page PDF a participant shows at the door (or prints)."""

import io
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from workshop.services.pdf import SANS, SANS_BOLD, draw_qr, fit_font_size, register_fonts


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
    "ticket": "E-TIKET KEGIATAN", "date": "Tanggal", "time": "Waktu", "venue": "Tempat",
    "name": "Nama", "unit": "Unit Kerja/Instansi", "role": "Peran", "code": "Kode presensi",
    "hint": "Tunjukkan kode QR ini kepada petugas di pintu masuk. Tiket ini pribadi.",
}
LABELS_EN = {
    "ticket": "EVENT E-TICKET", "date": "Date", "time": "Time", "venue": "Venue",
    "name": "Name", "unit": "Unit/Institution", "role": "Role", "code": "Check-in code",
    "hint": "Show this QR code to the staff at the entrance. This ticket is personal.",
}


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
    for key, value in (("date", ticket.date_text), ("time", ticket.time_text),
                       ("venue", ticket.venue)):
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
