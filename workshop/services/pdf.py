"""Shared PDF pieces: the embedded fonts and a fast QR drawn as one vector path.

Fonts are TrueType files shipped in static/fonts (DejaVu), registered once per process,
so names such as "Nguyễn Thị Minh Khai" or "Żaneta Ćwiek" print correctly and the PDF
needs no fonts on the reader's machine.
"""

from functools import cache
from pathlib import Path

from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from workshop.services import qr

FONT_DIR = Path(__file__).resolve().parents[2] / "static" / "fonts"
SANS, SANS_BOLD = "DejaVuSans", "DejaVuSans-Bold"
SERIF, SERIF_BOLD, SERIF_ITALIC = "DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic"

# ASCII85 encoding of images is pure Python and slow; binary streams are as valid.
rl_config.useA85 = 0


@cache
def register_fonts() -> None:
    for name in (SANS, SANS_BOLD, SERIF, SERIF_BOLD, SERIF_ITALIC):
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / f"{name}.ttf")))


def draw_qr(canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw the QR code for ``data`` with its lower-left corner at (x, y), ``size`` points wide
    including a quiet zone of 4 modules, as black squares on white in one path."""
    modules = qr.matrix(data)
    n = len(modules)
    cell = size / (n + 8)
    canvas.saveState()
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    path = canvas.beginPath()
    for row_index, row in enumerate(modules):
        top = y + size - (row_index + 4 + 1) * cell
        col = 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                path.rect(x + (start + 4) * cell, top, (col - start) * cell, cell)
            else:
                col += 1
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


def fit_font_size(text: str, font: str, size: float, max_width: float, minimum: float = 8) -> float:
    """The largest font size up to ``size`` at which ``text`` fits ``max_width``."""
    while size > minimum and pdfmetrics.stringWidth(text, font, size) > max_width:
        size -= 0.5
    return size
