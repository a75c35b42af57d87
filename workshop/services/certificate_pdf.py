"""The attendance certificate as PDF: one A4 landscape page per certificate.

``render_certificate_pdf`` takes plain, already chosen values (``CertificateData``) and
returns bytes; ``render_certificates_pdf`` writes many certificates as the pages of one
document (for printing: the logo is embedded once). Neither knows Flask or the database;
``certificate_data`` and ``sample_data`` turn the models into those values.

Speed: fonts are registered once per process (``pdf.register_fonts``), each logo is
decoded and scaled once and cached by the hash of its bytes, the QR is one vector path,
and images are written without ASCII85 (``pdf`` sets ``rl_config.useA85 = 0``).
"""

import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

from babel.dates import format_date
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from workshop.services import qr
from workshop.services.pdf import SERIF, SERIF_BOLD, SERIF_ITALIC, fit_font_size, register_fonts

PAGE = landscape(A4)  # 841.89 x 595.28 points
DEFAULT_LOGO = Path(__file__).resolve().parents[2] / "static" / "img" / "logo-default.png"
LOGO_MAX_PIXELS = 260  # ~300 dpi at the printed size; larger uploads are scaled down once

GREEN = (0.067, 0.306, 0.188)
GOLD = (0.722, 0.561, 0.133)
INK = (0.08, 0.08, 0.1)
GREY = (0.33, 0.33, 0.36)


@dataclass(frozen=True)
class CertificateData:
    """Everything printed on one certificate, already formatted."""

    number: str
    name: str  # exactly as registered, titles and degrees included
    nip: str  # "19680411 199303 1 009", or "" when none
    position: str  # jabatan
    affiliation: str  # unit or outside institution
    role: str  # participant, speaker, committee
    event_title: str
    organizer: str  # "Bagian Organisasi Setda, Pemerintah Kabupaten Muara Enim"
    date_text: str  # "Kamis, 8 Maret 2018" or "8–9 Maret 2018"
    venue: str
    hours: int | None  # JP
    sign_place_date: str  # "Muara Enim, 9 Maret 2018"
    signatory_title: str
    signatory_name: str
    signatory_rank: str
    signatory_nip: str  # formatted, or ""
    verify_url: str  # absolute: what the QR encodes
    verification_code: str
    government: str  # "Pemerintah Kabupaten Muara Enim"
    unit_name: str = ""  # the organizing unit, second line of the header
    language: str = "id"
    logo: bytes | None = None  # PNG or JPEG; None: the built-in default
    sample: bool = False  # a preview: "CONTOH" across the page


LABELS = {
    "id": {
        "title": "SERTIFIKAT",
        "number": "Nomor",
        "given_to": "diberikan kepada",
        "as": "sebagai",
        "attended": "telah mengikuti",
        "organized_by": "yang diselenggarakan oleh",
        "on": "pada",
        "at": "bertempat di",
        "for": "selama",
        "hours": "jam pelajaran (JP)",
        "scan": "Pindai untuk verifikasi keaslian",
        "code": "Kode verifikasi",
        "sample": "CONTOH",
        "roles": {"participant": "Peserta", "speaker": "Narasumber", "committee": "Panitia"},
    },
    "en": {
        "title": "CERTIFICATE",
        "number": "Number",
        "given_to": "is awarded to",
        "as": "as a",
        "attended": "for having attended",
        "organized_by": "organized by",
        "on": "on",
        "at": "at",
        "for": "for",
        "hours": "lesson hours (JP)",
        "scan": "Scan to verify authenticity",
        "code": "Verification code",
        "sample": "SAMPLE",
        "roles": {
            "participant": "Participant",
            "speaker": "Speaker",
            "committee": "Committee Member",
        },
    },
}


def labels(language: str) -> dict:
    return LABELS["en" if language == "en" else "id"]


# --- formatting helpers -------------------------------------------------------------

_ONES_ID = [
    "",
    "satu",
    "dua",
    "tiga",
    "empat",
    "lima",
    "enam",
    "tujuh",
    "delapan",
    "sembilan",
    "sepuluh",
    "sebelas",
]
_ONES_EN = [
    "",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS_EN = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int, language: str = "id") -> str:
    """0 < n < 1000 in words: 16 -> "enam belas" / "sixteen" (JP are written both ways)."""
    if language == "en":
        if n < 20:
            return _ONES_EN[n]
        if n < 100:
            return _TENS_EN[n // 10] + ("-" + _ONES_EN[n % 10] if n % 10 else "")
        rest = n % 100
        head = f"{_ONES_EN[n // 100]} hundred"
        return f"{head} and {number_words(rest, 'en')}" if rest else head
    if n < 12:
        return _ONES_ID[n]
    if n < 20:
        return f"{_ONES_ID[n - 10]} belas"
    if n < 100:
        rest = n % 10
        return f"{_ONES_ID[n // 10]} puluh" + (f" {_ONES_ID[rest]}" if rest else "")
    head = "seratus" if n < 200 else f"{_ONES_ID[n // 100]} ratus"
    return f"{head} {number_words(n % 100)}" if n % 100 else head


def format_nip(nip: str | None) -> str:
    """A NIP in its four groups (19680411 199303 1 009); other numbers as they are."""
    if not nip:
        return ""
    return f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}" if len(nip) == 18 else nip


def _locale(language: str) -> str:
    return "en" if language == "en" else "id"


def days_text(days: list[date], language: str = "id") -> str:
    """One day: "Kamis, 8 Maret 2018"; consecutive days: "8–9 Maret 2018" (across months:
    "28 Februari – 1 Maret 2018"); other days: "8, 10 dan 12 Maret 2018"."""
    locale = _locale(language)
    days = sorted(set(days))
    if not days:
        return ""
    if len(days) == 1:
        return format_date(days[0], "EEEE, d MMMM y", locale=locale)
    first, last = days[0], days[-1]
    if (last - first).days == len(days) - 1:  # consecutive
        if (first.year, first.month) == (last.year, last.month):
            return f"{first.day}–{format_date(last, 'd MMMM y', locale=locale)}"
        left = format_date(
            first, "d MMMM" if first.year == last.year else "d MMMM y", locale=locale
        )
        return f"{left} – {format_date(last, 'd MMMM y', locale=locale)}"
    words = [format_date(d, "d MMMM y", locale=locale) for d in days]
    if len({(d.year, d.month) for d in days}) == 1:  # "8, 10 dan 12 Maret 2018"
        words = [str(d.day) for d in days[:-1]] + [words[-1]]
    joiner = " and " if language == "en" else " dan "
    return ", ".join(words[:-1]) + joiner + words[-1]


def sign_place_date(place: str, day: date | None, language: str = "id") -> str:
    """ "Muara Enim, 9 Maret 2018"."""
    when = format_date(day, "d MMMM y", locale=_locale(language)) if day else ""
    return ", ".join(part for part in (place.strip(), when) if part)


# --- logos --------------------------------------------------------------------------


class _Logo:
    """A logo prepared once: scaled down, flattened onto white and encoded as JPEG, which
    reportlab embeds as it is (no per-document recompression). The reader's file handle is
    shared, so drawing it is serialised by a lock (a fraction of a millisecond)."""

    def __init__(self, data: bytes):
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            image.load()
            rgba = image.convert("RGBA")
        rgba.thumbnail((LOGO_MAX_PIXELS, LOGO_MAX_PIXELS), Image.LANCZOS)
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        out = io.BytesIO()
        flat.save(out, format="JPEG", quality=92, subsampling=0)
        self.reader = ImageReader(io.BytesIO(out.getvalue()))
        self.reader.getRGBData()  # decoded once; reportlab names the image by this data
        self.size = flat.size
        self.lock = threading.Lock()

    def draw(self, c: Canvas, x: float, y: float, width: float, height: float) -> None:
        with self.lock:
            c.drawImage(self.reader, x, y, width, height)


_logo_lock = threading.Lock()
_logos: "OrderedDict[str, _Logo]" = OrderedDict()
_LOGO_CACHE_SIZE = 16
_default_logo: list[bytes] = []


def logo_for(data: bytes | None) -> _Logo:
    """The prepared logo for these bytes (the built-in default for None), cached by the
    hash of its content: an organizer's new upload is a new entry, never a stale one."""
    if data is None:
        if not _default_logo:
            _default_logo.append(DEFAULT_LOGO.read_bytes())
        data = _default_logo[0]
    key = hashlib.sha256(data).hexdigest()
    with _logo_lock:
        found = _logos.get(key)
        if found is not None:
            _logos.move_to_end(key)
            return found
    logo = _Logo(data)
    with _logo_lock:
        _logos[key] = logo
        while len(_logos) > _LOGO_CACHE_SIZE:
            _logos.popitem(last=False)
    return logo


def _draw_qr(c: Canvas, data: str, x: float, y: float, size: float) -> None:
    """The QR code as one path in module units (small integers under one transform), which
    writes far less than per-rectangle coordinates in points. Includes a 4-module quiet
    zone on white."""
    modules = qr.matrix(data)
    n = len(modules)
    cell = size / (n + 8)
    c.saveState()
    c.setFillColorRGB(1, 1, 1)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    c.translate(x + 4 * cell, y + 4 * cell)
    c.scale(cell, cell)
    parts = []
    for row_index, row in enumerate(modules):
        bottom = n - 1 - row_index
        col = 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                parts.append(f"{start} {bottom} {col - start} 1 re")
            else:
                col += 1
    parts.append("f")
    c.addLiteral("\n".join(parts))
    c.restoreState()


# --- drawing ------------------------------------------------------------------------


def _centred(
    c: Canvas, text: str, font: str, size: float, y: float, *, color=INK, char_space: float = 0
) -> None:
    c.setFillColorRGB(*color)
    c.setFont(font, size)
    c.drawCentredString(PAGE[0] / 2, y, text, charSpace=char_space)


def _lines(text: str, font: str, size: float, width: float, limit: int) -> list[str]:
    lines = simpleSplit(text, font, size, width) or [""]
    if len(lines) > limit:  # shorten the last line rather than run off the page
        lines = lines[:limit]
        while lines[-1] and stringWidth(lines[-1] + "…", font, size) > width:
            lines[-1] = lines[-1][:-1]
        lines[-1] = lines[-1].rstrip() + "…"
    return lines


def _frame(c: Canvas) -> None:
    width, height = PAGE
    c.setStrokeColorRGB(*GREEN)
    c.setLineWidth(5)
    c.rect(18, 18, width - 36, height - 36, stroke=1, fill=0)
    c.setStrokeColorRGB(*GOLD)
    c.setLineWidth(1.2)
    c.rect(27, 27, width - 54, height - 54, stroke=1, fill=0)
    c.setLineWidth(0.5)
    c.rect(31, 31, width - 62, height - 62, stroke=1, fill=0)
    c.setFillColorRGB(*GOLD)
    for x, y in ((29, 29), (width - 29, 29), (29, height - 29), (width - 29, height - 29)):
        path = c.beginPath()  # a small diamond on each corner
        path.moveTo(x, y - 7)
        path.lineTo(x + 7, y)
        path.lineTo(x, y + 7)
        path.lineTo(x - 7, y)
        path.close()
        c.drawPath(path, stroke=0, fill=1)


def _watermark(c: Canvas, text: str) -> None:
    c.saveState()
    c.setFillColorRGB(0.9, 0.9, 0.9)
    c.setFont(SERIF_BOLD, 150)
    c.translate(PAGE[0] / 2, PAGE[1] / 2)
    c.rotate(22)
    c.drawCentredString(0, -50, text)
    c.restoreState()


def _header(c: Canvas, data: CertificateData, logo: "_Logo", lab: dict) -> float:
    """Logo, government and unit, "SERTIFIKAT" and its number; returns the next baseline."""
    width, height = PAGE
    logo_h = 60
    logo_w = logo_h * logo.size[0] / logo.size[1]
    logo.draw(c, (width - logo_w) / 2, height - 42 - logo_h, logo_w, logo_h)
    y = height - 42 - logo_h - 16
    _centred(c, data.government.upper(), SERIF_BOLD, 12.5, y, color=GREEN)
    if data.unit_name:
        y -= 15
        size = fit_font_size(data.unit_name.upper(), SERIF_BOLD, 11, 620)
        _centred(c, data.unit_name.upper(), SERIF_BOLD, size, y, color=GREEN)
    y -= 8
    c.setStrokeColorRGB(*GOLD)
    c.setLineWidth(1.4)
    c.line(width / 2 - 230, y, width / 2 + 230, y)
    c.setLineWidth(0.5)
    c.line(width / 2 - 230, y - 2.5, width / 2 + 230, y - 2.5)
    y -= 38
    _centred(c, lab["title"], SERIF_BOLD, 34, y, color=GREEN, char_space=7)
    y -= 19
    _centred(c, f"{lab['number']}: {data.number}", SERIF, 11.5, y)
    return y - 25


BODY_BOTTOM = 194  # the body stays above the signing place and date


def _name_lines(name: str, k: float) -> list[tuple[str, float]]:
    """A name on one line down to 17 pt; a longer one on two lines rather than tiny."""
    size = fit_font_size(name, SERIF_BOLD, 25 * k, 640, minimum=17 * k)
    if stringWidth(name, SERIF_BOLD, size) <= 640:
        return [(name, size)]
    size = 20 * k
    while size > 10 and len(simpleSplit(name, SERIF_BOLD, size, 640)) > 2:
        size -= 0.5
    return [(line, size) for line in _lines(name, SERIF_BOLD, size, 640, 2)]


def _body_rows(data: CertificateData, lab: dict, k: float) -> list[tuple]:
    """The body as rows of (lead, kind, text, font, size, color) at scale ``k``."""
    rows: list[tuple] = [(0, "text", lab["given_to"], SERIF_ITALIC, 12 * k, INK)]
    names = _name_lines(data.name, k)
    for i, (line, size) in enumerate(names):  # underlined below the last line
        rows.append(
            (
                30 * k if i == 0 else size + 3,
                "name" if i == len(names) - 1 else "text",
                line,
                SERIF_BOLD,
                size,
                INK,
            )
        )
    lead = 22 * k
    if data.nip:
        rows.append((lead, "text", f"NIP. {data.nip}", SERIF, 11 * k, INK))
        lead = 14.5 * k
    who = " – ".join(part for part in (data.position, data.affiliation) if part)
    for line in _lines(who, SERIF, 11 * k, 640, 2) if who else []:
        rows.append((lead, "text", line, SERIF, 11 * k, INK))
        lead = 14.5 * k
    role = lab["roles"].get(data.role, lab["roles"]["participant"])
    rows.append((lead + 4 * k, "role", role, SERIF_BOLD, 12 * k, INK))
    rows.append((19 * k, "text", lab["attended"], SERIF_ITALIC, 11.5 * k, INK))
    title_size = 15.0 * k
    while title_size > 10 and len(simpleSplit(data.event_title, SERIF_BOLD, title_size, 640)) > 2:
        title_size -= 0.5
    lead = 20 * k
    for line in _lines(data.event_title, SERIF_BOLD, title_size, 640, 2):
        rows.append((lead, "text", line, SERIF_BOLD, title_size, GREEN))
        lead = title_size + 4 * k
    where = f"{lab['on']} {data.date_text}" if data.date_text else ""
    where += f" {lab['at']} {data.venue}" if data.venue else ""
    lead += 1 * k
    for text in (f"{lab['organized_by']} {data.organizer}", where.strip()):
        for line in _lines(text, SERIF, 11 * k, 640, 2) if text else []:
            rows.append((lead, "text", line, SERIF, 11 * k, INK))
            lead = 14.5 * k
    if data.hours:
        hours = (
            f"{lab['for']} {data.hours} ({number_words(data.hours, data.language)}) {lab['hours']}"
        )
        rows.append((lead + 2 * k, "text", hours, SERIF_BOLD, 11 * k, INK))
    return rows


def _body(c: Canvas, data: CertificateData, lab: dict, y: float) -> None:
    """Name, position, role, event, organizer, dates, venue and JP, centred; a long name,
    title or venue shrinks the whole body until it stays clear of the signature."""
    k = 1.0
    rows = _body_rows(data, lab, k)
    while k > 0.72 and y - sum(row[0] for row in rows) < BODY_BOTTOM:
        k -= 0.04
        rows = _body_rows(data, lab, k)
    width = PAGE[0]
    for lead, kind, text, font, size, color in rows:
        y -= lead
        if kind == "role":  # "sebagai " + the role in bold
            prefix = lab["as"] + " "
            total = stringWidth(prefix, SERIF, size) + stringWidth(text, font, size)
            line = c.beginText((width - total) / 2, y)  # one line: reads as one
            line.setFillColorRGB(*color)
            line.setFont(SERIF, size)
            line.textOut(prefix)
            line.setFont(font, size)
            line.textOut(text)
            c.drawText(line)
            continue
        _centred(c, text, font, size, y, color=color)
        if kind == "name":
            half = min(stringWidth(text, font, size), 640) / 2 + 20
            c.setStrokeColorRGB(*GOLD)
            c.setLineWidth(0.8)
            c.line(width / 2 - half, y - 7, width / 2 + half, y - 7)


def _signatory(c: Canvas, data: CertificateData) -> None:
    centre = PAGE[0] - 205
    y = 176
    c.setFillColorRGB(*INK)
    c.setFont(SERIF, 11)
    if data.sign_place_date:
        c.drawCentredString(centre, y, data.sign_place_date)
        y -= 14
    title = data.signatory_title.strip()
    if title and title[-1].isalnum():
        title += ","  # "Kepala Bappeda Kabupaten Muara Enim,"
    for line in _lines(title, SERIF, 11, 270, 3):
        c.drawCentredString(centre, y, line)
        y -= 14
    y -= 50  # room for the signature and the stamp
    if data.signatory_name:
        size = fit_font_size(data.signatory_name, SERIF_BOLD, 11.5, 290, minimum=8)
        c.setFont(SERIF_BOLD, size)
        c.drawCentredString(centre, y, data.signatory_name)
        half = stringWidth(data.signatory_name, SERIF_BOLD, size) / 2
        c.setStrokeColorRGB(*INK)
        c.setLineWidth(0.8)
        c.line(centre - half, y - 2.5, centre + half, y - 2.5)
        y -= 14
    c.setFont(SERIF, 10.5)
    if data.signatory_rank:
        c.drawCentredString(centre, y, data.signatory_rank)
        y -= 13.5
    if data.signatory_nip:
        c.drawCentredString(centre, y, f"NIP. {data.signatory_nip}")


def _verification(c: Canvas, data: CertificateData, lab: dict) -> None:
    size, x, y = 86, 52, 46
    _draw_qr(c, data.verify_url, x, y, size)
    tx = x + size + 6
    c.setFillColorRGB(*INK)
    c.setFont(SERIF_BOLD, 8.5)
    c.drawString(tx, y + 54, lab["scan"])
    c.setFont(SERIF, 8)
    c.setFillColorRGB(*GREY)
    c.drawString(tx, y + 41, f"{lab['code']}:")
    c.setFillColorRGB(*INK)
    c.setFont(SERIF_BOLD, 8.5)
    c.drawString(tx, y + 30, data.verification_code)
    c.setFont(SERIF, 7)
    c.setFillColorRGB(*GREY)
    url_lines = _lines(data.verify_url, SERIF, 7, 190, 2)
    for i, line in enumerate(url_lines):
        c.drawString(tx, y + 18 - i * 9, line)


def draw_certificate(c: Canvas, data: CertificateData) -> None:
    """Draw one certificate on the canvas's current page and end the page."""
    lab = labels(data.language)
    if data.sample:
        _watermark(c, lab["sample"])
    _frame(c)
    y = _header(c, data, logo_for(data.logo), lab)
    _body(c, data, lab, y)
    _signatory(c, data)
    _verification(c, data, lab)
    c.showPage()


def _canvas(out: BinaryIO, data: CertificateData | None) -> Canvas:
    register_fonts()
    c = Canvas(out, pagesize=PAGE, pageCompression=1)
    if data is not None:
        lab = labels(data.language)
        c.setTitle(f"{lab['title'].title()} {data.number} – {data.name}")
        c.setAuthor(data.government)
        c.setSubject(data.event_title)
    return c


def render_certificate_pdf(data: CertificateData) -> bytes:
    """One certificate as a one-page A4 landscape PDF."""
    out = io.BytesIO()
    c = _canvas(out, data)
    draw_certificate(c, data)
    c.save()
    return out.getvalue()


def render_certificates_pdf(
    items: Iterable[CertificateData], out: BinaryIO, title: str = ""
) -> int:
    """Many certificates as the pages of one PDF written to ``out`` (for printing): fonts
    and the logo are embedded once. Returns the number of pages."""
    c = _canvas(out, None)
    if title:
        c.setTitle(title)
    pages = 0
    for data in items:
        draw_certificate(c, data)
        pages += 1
    if not pages:
        c.showPage()  # an empty document is still a valid PDF
    c.save()
    return pages
