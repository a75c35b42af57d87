"""The rows of the daftar hadir (attendance list) as a platypus flowable drawn straight on
the canvas.

A reportlab ``Table`` of 2,000 rows spends most of its time measuring, restyling and
splitting itself on every page and drawing each cell with its own text object. The list
has a fixed look, so it is cheaper to wrap every cell once (``wrap_lines``), know every
row's height in advance, and draw a page's rows with one text object and one path of
lines. Splitting a page off is a binary search over the rows' cumulative heights.
"""

from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

from reportlab.lib import colors
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable

GRID = colors.Color(0.2, 0.2, 0.2)
HEADER_BG = colors.Color(0.88, 0.88, 0.88)
LEFT, CENTER, RIGHT = "left", "center", "right"


def wrap_lines(
    text: str, width: float, font: str, size: float, cache: dict | None = None
) -> tuple[str, ...]:
    """``text`` broken into lines no wider than ``width`` at word boundaries (a word longer
    than the width gets a line of its own, never cut). ``cache`` remembers repeated texts
    (positions, units and NIPs repeat a lot on a long list)."""
    key = (text, width, font, size)
    if cache is not None and key in cache:
        return cache[key]
    lines: list[str] = []
    for part in (text or "").split("\n"):
        lines.extend(simpleSplit(part, font, size, width) or [""])
    result = tuple(lines)
    if cache is not None:
        cache[key] = result
    return result


@dataclass(frozen=True)
class Layout:
    """Everything about the list's look that does not depend on its rows."""

    widths: tuple[float, ...]  # column widths
    align: tuple[str, ...]  # per column: LEFT, CENTER or RIGHT
    header: tuple[tuple[str, ...], ...]  # the header's lines per column ("" = spanned)
    spans: tuple[tuple[int, int], ...]  # (first, last) columns drawn as one in the header
    unruled: frozenset[int]  # columns with no line on their left edge (inside a span)
    font: str
    bold: str
    size: float
    leading: float
    padding: float  # left and right of each cell
    header_padding: float  # above and below the header's text

    @property
    def width(self) -> float:
        return sum(self.widths)

    @property
    def header_height(self) -> float:
        lines = max(len(cell) for cell in self.header)
        return lines * self.leading + 2 * self.header_padding


@dataclass(frozen=True)
class Row:
    height: float
    cells: tuple[tuple[str, ...], ...]  # lines per column


class ListRows(Flowable):
    """Rows ``start`` to ``stop`` of ``rows`` under the header, ruled on every side except
    the left edge of the ``unruled`` columns, every cell's text centred vertically.

    ``header``: True draws the header above the rows (a table split over pages repeats it
    on each); None draws it only when the rows land at the top of a page, so the last rows
    moved to a new page with the signature block are headed and those that follow the rest
    of the table on the same page are not."""

    def __init__(
        self,
        layout: Layout,
        rows: list[Row],
        *,
        header: bool | None = True,
        start: int = 0,
        stop: int | None = None,
        tops: list[float] | None = None,
    ):
        super().__init__()
        self.layout, self.rows, self.header = layout, rows, header
        self.start, self.stop = start, len(rows) if stop is None else stop
        # tops[i]: the height of rows[:i], shared by every part of a split list
        self.tops = tops if tops is not None else [0.0, *accumulate(r.height for r in rows)]
        self.hAlign = "CENTER"  # as a Table: placed on the frame's margins
        self._show_header = bool(header)

    def _rows_height(self) -> float:
        return self.tops[self.stop] - self.tops[self.start]

    def _at_top(self) -> bool:
        template = getattr(getattr(self, "canv", None), "_doctemplate", None)
        frame = getattr(template, "frame", None)
        return bool(getattr(frame, "_atTop", False))

    def wrap(self, avail_width, avail_height):
        self._show_header = self.header or (self.header is None and self._at_top())
        head = self.layout.header_height if self._show_header else 0
        return self.layout.width, head + self._rows_height()

    def split(self, avail_width, avail_height):
        if self.header is None:
            return []  # only ever kept together with the signature block
        room = avail_height - self.layout.header_height
        # the last row whose bottom is still on this page
        cut = bisect_right(self.tops, self.tops[self.start] + room, self.start, self.stop + 1) - 1
        if cut <= self.start:
            return []
        if cut >= self.stop:
            return [self]
        return [self._part(self.start, cut), self._part(cut, self.stop)]

    def _part(self, start: int, stop: int) -> "ListRows":
        return ListRows(self.layout, self.rows, header=True, start=start, stop=stop, tops=self.tops)

    # --- drawing -------------------------------------------------------------------------

    def draw(self):
        layout, canv = self.layout, self.canv
        lefts = [0.0, *accumulate(layout.widths)]
        top = self._rows_height() + (layout.header_height if self._show_header else 0)
        bottoms = []  # (bottom, height) of each row, header first
        y = top
        if self._show_header:
            y -= layout.header_height
            bottoms.append((y, layout.header_height))
            canv.setFillColor(HEADER_BG)
            canv.rect(0, y, layout.width, layout.header_height, stroke=0, fill=1)
        for row in self.rows[self.start : self.stop]:
            y -= row.height
            bottoms.append((y, row.height))
        self._rule(lefts, top, [b for b, _ in bottoms])
        text = canv.beginText()
        canv.setFillColor(colors.black)
        if self._show_header:
            text.setFont(layout.bold, layout.size, layout.leading)
            self._header_text(text, lefts, *bottoms[0])
            bottoms = bottoms[1:]
        text.setFont(layout.font, layout.size, layout.leading)
        for row, (bottom, height) in zip(self.rows[self.start : self.stop], bottoms, strict=True):
            for column, lines in enumerate(row.cells):
                if lines:
                    self._cell(
                        text,
                        lines,
                        lefts[column],
                        layout.widths[column],
                        layout.align[column],
                        bottom,
                        height,
                    )
        canv.drawText(text)

    def _rule(self, lefts: list[float], top: float, bottoms: list[float]) -> None:
        layout, canv = self.layout, self.canv
        canv.setStrokeColor(GRID)
        canv.setLineWidth(0.5)
        lines = [(0, y, layout.width, y) for y in (top, *bottoms)]
        lines += [
            (x, bottoms[-1], x, top)
            for column, x in enumerate(lefts)
            if column not in layout.unruled
        ]
        canv.lines(lines)

    def _header_text(self, text, lefts, bottom, height) -> None:
        layout = self.layout
        spanned = {first: last for first, last in layout.spans}
        for column, lines in enumerate(layout.header):
            if not any(lines):
                continue
            last = spanned.get(column, column)
            width = lefts[last + 1] - lefts[column]
            self._cell(text, lines, lefts[column], width, CENTER, bottom, height, font=layout.bold)

    def _cell(self, text, lines, left, width, align, bottom, height, font=None) -> None:
        """Lines centred vertically in the cell (as reportlab's Table places them)."""
        layout = self.layout
        font = font or layout.font
        y = bottom + (height + len(lines) * layout.leading) / 2 - layout.size
        for line in lines:
            if align == LEFT:
                x = left + layout.padding
            else:
                w = stringWidth(line, font, layout.size)
                x = left + width - layout.padding - w if align == RIGHT else left + (width - w) / 2
            text.setTextOrigin(x, y)
            text.textOut(line)
            y -= layout.leading
