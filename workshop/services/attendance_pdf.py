"""Printed reports: the daftar hadir (attendance list) of one event day, for the activity
report and the financial accountability file (SPJ), and a person's JP recap.

Renderers take plain, already formatted values and return bytes (reportlab platypus);
they know nothing of Flask or the database. Text is laid out with the embedded DejaVu
fonts, so any name prints. Every page carries "Halaman X dari Y" (a two-pass canvas)
and long tables repeat their header row on each page. The daftar hadir's rows are drawn
by ``attendance_rows`` (thousands of rows in well under a second).
"""

import io
from dataclasses import dataclass, field
from functools import partial
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from workshop.services.attendance_rows import (
    CENTER,
    GRID,
    HEADER_BG,
    LEFT,
    RIGHT,
    Layout,
    ListRows,
    Row,
    wrap_lines,
)
from workshop.services.pdf import SANS, SANS_BOLD, register_fonts

BODY_SIZE, BODY_LEADING = 8.5, 10.5


@dataclass
class Signature:
    """The organizer's block under the list: place and date, position, name, NIP."""

    place_date: str  # "Muara Enim, 8 Maret 2018"
    position: str  # "Kepala Bagian Organisasi"
    name: str
    nip: str = ""  # formatted; empty: no NIP line


@dataclass
class AttendanceLine:
    name: str
    nip: str
    position: str
    affiliation: str
    time_text: str  # "08.12"; empty on the blank list


@dataclass
class AttendanceSheet:
    organization: str  # "Pemerintah Kabupaten Muara Enim"
    unit: str  # organizing unit, may be empty
    event_title: str
    day_text: str  # "Kamis, 8 Maret 2018"
    venue: str
    lines: list[AttendanceLine]
    signature: Signature
    labels: dict
    blank: bool = False


LABELS_ID = {
    "title": "DAFTAR HADIR PESERTA",
    "event": "Kegiatan",
    "day": "Hari/Tanggal",
    "venue": "Tempat",
    "no": "No",
    "name": "Nama",
    "nip": "NIP",
    "position": "Jabatan",
    "unit": "Unit Kerja/Instansi",
    "time": "Jam Hadir",
    "signature": "Tanda Tangan",
    "page": "Halaman %(page)d dari %(total)d",
    "none": "Belum ada peserta yang hadir.",
    "blank_note": "Daftar kosong untuk ditandatangani peserta terdaftar.",
    "nip_prefix": "NIP.",
    "recap_title": "REKAP JAM PELAJARAN (JP) PENGEMBANGAN KOMPETENSI",
    "recap_event": "Kegiatan",
    "recap_date": "Tanggal",
    "recap_number": "Nomor Sertifikat",
    "jp": "JP",
    "total": "Jumlah JP tahun %(year)d",
    "year": "Tahun %(year)d",
    "met": "Memenuhi paling sedikit %(target)d JP.",
    "not_met": "Belum memenuhi paling sedikit %(target)d JP (kurang %(missing)d JP).",
    "recap_none": "Belum ada kegiatan yang dihadiri.",
    "printed": "Dicetak pada %(when)s",
    "unit_label": "Unit Kerja/Instansi",
    "name_label": "Nama",
    "nip_label": "NIP",
    "recap_note": (
        "JP dihitung dari sertifikat yang sah (tidak dicabut) yang diterbitkan "
        "melalui aplikasi ini."
    ),
}


class _NumberedCanvas(Canvas):
    """Keeps every page until the end, then writes "Halaman X dari Y" on each."""

    def __init__(self, *args, page_text: str, running: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []
        self._page_text, self._running = page_text, running

    def showPage(self):  # reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._decorate(total)
            super().showPage()
        super().save()

    def _decorate(self, total: int) -> None:
        width, _height = self._pagesize
        self.saveState()
        self.setFont(SANS, 8)
        self.setFillColor(colors.Color(0.25, 0.25, 0.25))
        page = self._pageNumber
        self.drawRightString(
            width - 15 * mm, 9 * mm, self._page_text % {"page": page, "total": total}
        )
        if page > 1 and self._running:
            self.drawString(15 * mm, 9 * mm, self._running[:150])
        self.restoreState()


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=SANS, fontSize=10, leading=13)
    return {
        "org": ParagraphStyle(
            "org", base, fontName=SANS_BOLD, fontSize=13, leading=16, alignment=TA_CENTER
        ),
        "unit": ParagraphStyle(
            "unit", base, fontName=SANS_BOLD, fontSize=11.5, leading=14, alignment=TA_CENTER
        ),
        "title": ParagraphStyle(
            "title",
            base,
            fontName=SANS_BOLD,
            fontSize=13,
            leading=16,
            alignment=TA_CENTER,
            spaceBefore=4,
            spaceAfter=6,
        ),
        "info": base,
        "info_bold": ParagraphStyle("info_bold", base, fontName=SANS_BOLD),
        "small": ParagraphStyle("small", base, fontSize=8.5, leading=11),
        "sign": ParagraphStyle("sign", base, fontSize=10, leading=13),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _wrap(text: str, width: float, font: str = SANS, size: float = BODY_SIZE) -> str:
    """Pre-wrapped plain text for a table cell (much faster than a Paragraph per cell)."""
    lines = []
    for part in (text or "").split("\n"):
        lines.extend(simpleSplit(part, font, size, width) or [""])
    return "\n".join(lines)


def _letterhead(organization: str, unit: str, styles) -> list:
    story = [_p(organization.upper(), styles["org"])]
    if unit:
        story.append(_p(unit.upper(), styles["unit"]))
    rule = Table([[""]], colWidths=["100%"], rowHeights=[2])
    rule.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 1.2, colors.black)]))
    story += [Spacer(1, 2 * mm), rule, Spacer(1, 3 * mm)]
    return story


def _info_table(pairs: list[tuple[str, str]], width: float, styles) -> Table:
    rows = [[_p(k, styles["info"]), ":", _p(v, styles["info_bold"])] for k, v in pairs]
    table = Table(rows, colWidths=[32 * mm, 4 * mm, width - 36 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONTNAME", (0, 0), (-1, -1), SANS),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def _signature_block(sig: Signature, styles) -> list:
    """Place and date, position, room to sign, name underlined, NIP: at the right."""
    name = Paragraph(f"<u><b>{escape(sig.name)}</b></u>", styles["sign"]) if sig.name else ""
    rows = [[_p(sig.place_date, styles["sign"])], [_p(sig.position, styles["sign"])], [""], [name]]
    heights = [None, None, 20 * mm, None]
    if sig.nip:
        rows.append([_p(sig.nip, styles["sign"])])
        heights.append(None)
    block = Table(rows, colWidths=[80 * mm], rowHeights=heights, hAlign="RIGHT")
    block.setStyle(
        TableStyle(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return [Spacer(1, 8 * mm), block]


# --- the daftar hadir ----------------------------------------------------------------------

# Column widths on A4 landscape within 15 mm margins (267 mm): the signature column is
# two halves, as on paper lists: odd rows sign on the left, even rows on the right.
COLUMNS_MM = (11, 54, 41, 44, 47, 14, 28, 28)
ALIGN = (RIGHT, LEFT, LEFT, LEFT, LEFT, CENTER, LEFT, LEFT)
CELL_PADDING, ROW_MIN = 4, 9 * mm
KEEP_WITH_SIGNATURE = 2  # rows that never leave the signature block alone on a page


def render_attendance_pdf(sheet: AttendanceSheet) -> bytes:
    """The daftar hadir of one event day, A4 landscape, ready to print and sign."""
    register_fonts()
    styles = _styles()
    labels = sheet.labels
    pagesize = landscape(A4)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=pagesize,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        title=f"{labels['title'].title()} – {sheet.event_title}",
        author=sheet.organization,
        subject=sheet.day_text,
        pageCompression=1,
    )
    width = pagesize[0] - 30 * mm
    story = _letterhead(sheet.organization, sheet.unit, styles)
    story.append(_p(labels["title"], styles["title"]))
    story.append(
        _info_table(
            [
                (labels["event"], sheet.event_title),
                (labels["day"], sheet.day_text),
                (labels["venue"], sheet.venue),
            ],
            width,
            styles,
        )
    )
    story.append(Spacer(1, 4 * mm))
    story += _attendance_list(
        sheet, _signature_block(sheet.signature, styles), _p(labels["none"], styles["small"])
    )
    running = f"{labels['title'].title()} · {sheet.event_title} · {sheet.day_text}"
    doc.build(
        story, canvasmaker=partial(_NumberedCanvas, page_text=labels["page"], running=running)
    )
    return out.getvalue()


def _list_layout(labels: dict) -> Layout:
    widths = tuple(w * mm for w in COLUMNS_MM)
    text_width = [w - 2 * CELL_PADDING for w in widths]
    wrapped = [
        wrap_lines(labels[key], text_width[i], SANS_BOLD, BODY_SIZE)
        for i, key in enumerate(("no", "name", "nip", "position", "unit", "time"))
    ]
    return Layout(
        widths=widths,
        align=ALIGN,
        # the signature's label spans both halves of its column
        header=(*wrapped, (labels["signature"],), ("",)),
        spans=((6, 7),),
        unruled=frozenset({7}),
        font=SANS,
        bold=SANS_BOLD,
        size=BODY_SIZE,
        leading=BODY_LEADING,
        padding=CELL_PADDING,
        header_padding=3,
    )


def _list_rows(lines: list[AttendanceLine], layout: Layout) -> list[Row]:
    """One row per person, every text wrapped to its column (never cut): odd rows sign on
    the left half of the signature column, even rows on the right."""
    text_width = [w - 2 * CELL_PADDING for w in layout.widths]
    cache: dict = {}
    rows = []
    for n, line in enumerate(lines, start=1):
        cells = [
            wrap_lines(text, text_width[i], SANS, BODY_SIZE, cache)
            for i, text in enumerate(
                (line.name, line.nip, line.position, line.affiliation), start=1
            )
        ]
        mark = (f"{n}. " + "." * 12,)
        # Room to sign: at least 9 mm a row, more when a cell wraps.
        height = max(max(len(c) for c in cells) * BODY_LEADING + 2 * CELL_PADDING, ROW_MIN)
        rows.append(
            Row(
                height,
                (
                    (str(n),),
                    *cells,
                    (line.time_text,) if line.time_text else (),
                    mark if n % 2 else (),
                    () if n % 2 else mark,
                ),
            )
        )
    return rows


def _attendance_list(sheet: AttendanceSheet, signature, empty_note) -> list:
    """The list as flowables: the rows with their header repeated on every page, then the
    last rows kept on one page with the signature block."""
    layout = _list_layout(sheet.labels)
    rows = _list_rows(sheet.lines, layout)
    if not rows:
        return [ListRows(layout, []), Spacer(1, 3 * mm), empty_note, KeepTogether(signature)]
    cut = max(len(rows) - KEEP_WITH_SIGNATURE, 0)
    story = [ListRows(layout, rows[:cut])] if cut else []
    tail = ListRows(layout, rows[cut:], header=None if cut else True)
    # (KeepTogether measures its content: a nested KeepTogether would always break the page.)
    return [*story, KeepTogether([tail, *signature])]


# --- the JP recap --------------------------------------------------------------------------


@dataclass
class RecapLine:
    title: str
    date_text: str
    certificate_number: str  # "–" when none
    jp: int


@dataclass
class RecapYear:
    year: int
    lines: list[RecapLine]
    total: int


@dataclass
class RecapSheet:
    organization: str
    name: str
    nip: str
    affiliation: str
    years: list[RecapYear]
    printed_text: str  # "Dicetak pada Kamis, 8 Maret 2018, 10.00 WIB"
    target: int
    labels: dict = field(default_factory=lambda: LABELS_ID)


def render_jp_recap_pdf(sheet: RecapSheet) -> bytes:
    """A person's JP per year, A4 portrait: events, certificate numbers, JP, totals."""
    register_fonts()
    styles = _styles()
    labels = sheet.labels
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        title=f"{labels['recap_title'].title()} – {sheet.name}",
        author=sheet.organization,
        pageCompression=1,
    )
    width = A4[0] - 30 * mm
    story = _letterhead(sheet.organization, "", styles)
    story.append(_p(labels["recap_title"], styles["title"]))
    pairs = [(labels["name_label"], sheet.name)]
    if sheet.nip:
        pairs.append((labels["nip_label"], sheet.nip))
    if sheet.affiliation:
        pairs.append((labels["unit_label"], sheet.affiliation))
    story.append(_info_table(pairs, width, styles))
    story.append(Spacer(1, 4 * mm))
    if not sheet.years:
        story.append(_p(labels["recap_none"], styles["info"]))
    for year in sheet.years:
        story.append(_p(labels["year"] % {"year": year.year}, styles["info_bold"]))
        story.append(Spacer(1, 1.5 * mm))
        story.append(_recap_table(year, labels))
        missing = max(sheet.target - year.total, 0)
        note = (
            labels["met"] % {"target": sheet.target}
            if not missing
            else labels["not_met"] % {"target": sheet.target, "missing": missing}
        )
        story += [Spacer(1, 1.5 * mm), _p(note, styles["small"]), Spacer(1, 5 * mm)]
    story.append(_p(labels["recap_note"], styles["small"]))
    story.append(_p(labels["printed"] % {"when": sheet.printed_text}, styles["small"]))
    doc.build(
        story,
        canvasmaker=partial(
            _NumberedCanvas,
            page_text=labels["page"],
            running=f"{labels['recap_title'].title()} · {sheet.name}",
        ),
    )
    return out.getvalue()


def _recap_table(year: RecapYear, labels: dict) -> LongTable:
    widths = [10 * mm, 78 * mm, 36 * mm, 44 * mm, 12 * mm]
    text_widths = [w - 8 for w in widths]
    rows = [
        [
            labels["no"],
            labels["recap_event"],
            labels["recap_date"],
            labels["recap_number"],
            labels["jp"],
        ]
    ]
    for n, line in enumerate(year.lines, start=1):
        rows.append(
            [
                str(n),
                _wrap(line.title, text_widths[1]),
                _wrap(line.date_text, text_widths[2]),
                _wrap(line.certificate_number, text_widths[3]),
                str(line.jp),
            ]
        )
    rows.append(["", labels["total"] % {"year": year.year}, "", "", str(year.total)])
    table = LongTable(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), SANS),
                ("FONTSIZE", (0, 0), (-1, -1), BODY_SIZE),
                ("LEADING", (0, 0), (-1, -1), BODY_LEADING),
                ("FONTNAME", (0, 0), (-1, 0), SANS_BOLD),
                ("FONTNAME", (0, -1), (-1, -1), SANS_BOLD),
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
                ("SPAN", (1, -1), (3, -1)),
                ("ALIGN", (0, 0), (-1, 0), "CENTER"),
                ("ALIGN", (0, 1), (0, -1), "RIGHT"),
                ("ALIGN", (-1, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("GRID", (0, 0), (-1, -1), 0.5, GRID),
            ]
        )
    )
    return table
