"""A small, fast XLSX (Office Open XML SpreadsheetML) writer for report tables.

It writes what the reports need and nothing else: one or more worksheets, a bold header
row that is frozen, filterable and repeated on printed pages, column widths, and typed
cells (numbers, text in the shared string table, dates and times as Excel serial numbers with a
number format). The parts and their order follow what Excel itself and openpyxl write.
Text is passed through ``text`` (the caller's formula neutralising) and stripped of the
control characters XML 1.0 cannot carry.
"""

import io
import re
import zipfile
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, tzinfo
from xml.sax.saxutils import escape, quoteattr

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
EPOCH = datetime(1899, 12, 30)  # Excel's day zero (with its 1900 leap-year quirk)

# Cell styles (cellXfs index) by column kind; 1 is the header.
HEADER = 1
STYLE = {"time": 2, "datetime": 3, "date": 4, "percent": 5}
NUMBER_FORMATS = {164: "hh:mm", 165: "dd/mm/yyyy hh:mm", 166: "dd/mm/yyyy", 167: "0.0%"}

STYLES = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{MAIN}">'
    f'<numFmts count="{len(NUMBER_FORMATS)}">'
    + "".join(
        f'<numFmt numFmtId="{i}" formatCode={quoteattr(f)}/>' for i, f in NUMBER_FORMATS.items()
    )
    + '</numFmts><fonts count="2">'
    '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDE6F0"/><bgColor indexed="64"/>'
    "</patternFill></fill></fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="6">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"'
    ' applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>'
    + "".join(
        f'<xf numFmtId="{i}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        for i in NUMBER_FORMATS
    )
    + '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    "</cellStyles></styleSheet>"
)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(value: str) -> str:
    return escape(ILLEGAL.sub("", value))


def _serial(value: datetime | date) -> str:
    if isinstance(value, datetime):
        delta = value - EPOCH
        return repr(delta.days + delta.seconds / 86400)
    return str((value - EPOCH.date()).days)


def _sheet_name(name: str, taken: set[str]) -> str:
    base = SHEET_NAME_BAD.sub("-", ILLEGAL.sub("", name)).strip("'")[:31] or "Sheet"
    candidate, n = base, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


class _Strings:
    """The shared string table: each distinct text stored (and escaped) once."""

    def __init__(self, text: Callable[[str], str]):
        self.index: dict[str, int] = {}
        self.text = text

    def ref(self, value: str) -> int:
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.index)
        return found

    def xml(self) -> str:
        items = "".join(
            f'<si><t xml:space="preserve">{_text(self.text(v))}</t></si>' for v in self.index
        )
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<sst xmlns="{MAIN}" count="{len(self.index)}" '
            f'uniqueCount="{len(self.index)}">{items}</sst>'
        )


def _cell(ref: str, value, style: int, strings: _Strings, tz: tzinfo) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return f'<c r="{ref}" t="s"><v>{strings.ref(value)}</v></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(tz).replace(tzinfo=None)
        return f'<c r="{ref}" s="{style or STYLE["datetime"]}"><v>{_serial(value)}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="{style or STYLE["date"]}"><v>{_serial(value)}</v></c>'
    if isinstance(value, int | float):
        style_attr = f' s="{style}"' if style else ""
        return f'<c r="{ref}"{style_attr}><v>{value!r}</v></c>'
    return _cell(ref, str(value), style, strings, tz)


def _worksheet(
    headers: Sequence[str],
    kinds: Sequence[str],
    widths: Sequence[float],
    rows: Sequence[Sequence],
    strings: _Strings,
    tz: tzinfo,
) -> str:
    letters = [column_letter(i) for i in range(max(len(headers), 1))]
    styles = [STYLE.get(kind, 0) for kind in kinds]
    last = f"{letters[len(headers) - 1]}{len(rows) + 1}" if headers else "A1"
    parts = [
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}" '
        f'xmlns:r="{REL}"><sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        f'<dimension ref="A1:{last}"/><sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
    ]
    if widths:
        parts.append(
            "<cols>"
            + "".join(
                f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>'
                for i, w in enumerate(widths, start=1)
            )
            + "</cols>"
        )
    parts.append('<sheetData><row r="1">')
    parts += [
        f'<c r="{letters[i]}1" s="{HEADER}" t="s"><v>{strings.ref(str(h))}</v></c>'
        for i, h in enumerate(headers)
    ]
    parts.append("</row>")
    for r, row in enumerate(rows, start=2):
        parts.append(f'<row r="{r}">')
        parts += [
            _cell(f"{letters[i]}{r}", value, styles[i] if i < len(styles) else 0, strings, tz)
            for i, value in enumerate(row)
        ]
        parts.append("</row>")
    parts.append("</sheetData>")
    if headers:
        parts.append(f'<autoFilter ref="A1:{last}"/>')
    parts.append(
        '<pageMargins left="0.5" right="0.5" top="0.75" bottom="0.75" header="0.3" '
        'footer="0.3"/><pageSetup paperSize="9" orientation="landscape" '
        'fitToWidth="1" fitToHeight="0"/></worksheet>'
    )
    return "".join(parts)


def workbook(
    sheets: Sequence[tuple[str, Sequence[str], Sequence[str], Sequence[float], Sequence[Sequence]]],
    *,
    title: str = "",
    creator: str = "",
    text: Callable[[str], str] = str,
    tz: tzinfo = UTC,
    now: datetime | None = None,
) -> bytes:
    """The .xlsx bytes of ``sheets``: (name, headers, column kinds, widths, rows) each.

    Column kinds "time", "datetime", "date" and "percent" get a number format; aware
    datetimes are written as wall-clock time in ``tz`` (Excel has no time zones)."""
    taken: set[str] = set()
    names = [_sheet_name(s[0], taken) for s in sheets] or ["Sheet"]
    strings = _Strings(text)
    bodies = [_worksheet(*s[1:], strings=strings, tz=tz) for s in sheets] or [
        _worksheet([], [], [], [], strings, tz)
    ]
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=3) as zf:
        zf.writestr("[Content_Types].xml", _content_types(len(bodies)))
        zf.writestr(
            "_rels/.rels",
            _relationships(
                [
                    ("rId1", f"{REL}/officeDocument", "xl/workbook.xml"),
                    ("rId2", f"{PKG_REL}/metadata/core-properties", "docProps/core.xml"),
                    ("rId3", f"{REL}/extended-properties", "docProps/app.xml"),
                ]
            ),
        )
        zf.writestr("docProps/core.xml", _core(title, creator, stamp))
        zf.writestr("docProps/app.xml", APP)
        zf.writestr("xl/workbook.xml", _workbook(names, sheets))
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            _relationships(
                [
                    (f"rId{i}", f"{REL}/worksheet", f"worksheets/sheet{i}.xml")
                    for i in range(1, len(bodies) + 1)
                ]
                + [
                    (f"rId{len(bodies) + 1}", f"{REL}/styles", "styles.xml"),
                    (f"rId{len(bodies) + 2}", f"{REL}/sharedStrings", "sharedStrings.xml"),
                ]
            ),
        )
        zf.writestr("xl/styles.xml", STYLES)
        for i, body in enumerate(bodies, start=1):
            zf.writestr(f"xl/worksheets/sheet{i}.xml", body)
        zf.writestr("xl/sharedStrings.xml", strings.xml())  # filled by the sheets
    return out.getvalue()


def _content_types(n: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{CT}.worksheet+xml"/>'
        for i in range(1, n + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{CT}.styles+xml"/>{sheets}'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CT}.sharedStrings+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        "</Types>"
    )


def _relationships(items: list[tuple[str, str, str]]) -> str:
    rels = "".join(
        f'<Relationship Id="{i}" Type="{t}" Target="{target}"/>' for i, t, target in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{PKG_REL}">{rels}</Relationships>'
    )


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _workbook(names: list[str], sheets) -> str:
    entries = "".join(
        f'<sheet name={quoteattr(_text(n))} sheetId="{i}" r:id="rId{i}"/>'
        for i, n in enumerate(names, start=1)
    )
    defined = []
    for i, (name, sheet) in enumerate(zip(names, sheets, strict=False)):
        headers, rows = sheet[1], sheet[4]
        if not headers:
            continue
        last = f"${column_letter(len(headers) - 1)}${len(rows) + 1}"
        ref = _text(_quoted(name))
        defined.append(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" '
            f'hidden="1">{ref}!$A$1:{last}</definedName>'
        )
        defined.append(
            f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">{ref}!$1:$1</definedName>'
        )
    names_xml = f"<definedNames>{''.join(defined)}</definedNames>" if defined else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><bookViews><workbookView '
        f'activeTab="0"/></bookViews><sheets>{entries}</sheets>{names_xml}'
        '<calcPr calcId="191029"/></workbook>'
    )


def _core(title: str, creator: str, stamp: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{_text(title[:250])}</dc:title>"
        f"<dc:creator>{_text(creator[:250] or 'Workshop')}</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    )


APP = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'extended-properties"><Application>Workshop</Application></Properties>'
)
