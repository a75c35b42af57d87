"""QR images and the PDF e-ticket, read back with real decoders."""

import io
import shutil
import subprocess

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from workshop.services import qr
from workshop.services.tickets import LABELS_ID, TicketData, render_ticket_pdf

CODE = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"


def decode(image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image)]


def test_png_decodes_to_the_code():
    assert decode(Image.open(io.BytesIO(qr.png(CODE)))) == [CODE]


def test_svg_is_a_qr_of_the_code():
    """Rasterise the SVG's own unit squares and decode the result."""
    from xml.etree import ElementTree as ET

    data = qr.svg(CODE)
    root = ET.fromstring(data)  # noqa: S314 - our own output
    size = int(float(root.get("viewBox").split()[2]))
    image = Image.new("L", (size * 8, size * 8), 255)
    path = next(el for el in root.iter() if el.tag.endswith("path")).get("d")
    squares = [p for p in path.split("z") if p.startswith("M")]
    assert squares
    for part in squares:
        x, y = (float(v) for v in part[1:].split("H")[0].split(","))
        for dx in range(8):
            for dy in range(8):
                image.putpixel((int(x * 8) + dx, int(y * 8) + dy), 0)
    assert decode(image) == [CODE]


def ticket(**fields) -> TicketData:
    values = dict(
        event_title="Workshop Inovasi Pelayanan Publik",
        date_text="Kamis, 8 Maret 2018 – Jumat, 9 Maret 2018",
        time_text="08.00 – 16.00 WIB",
        venue="Ruang Rapat Pangripta, Bappeda",
        name="Nguyễn Thị Minh Khai",
        affiliation="Bappeda",
        role_text="Peserta",
        code=CODE,
        organizer="Pemerintah Kabupaten Muara Enim",
        labels=LABELS_ID,
    )
    values.update(fields)
    return TicketData(**values)


def test_ticket_pdf_has_one_page_with_the_details():
    pdf = render_ticket_pdf(ticket(name="Żaneta Ćwiek"))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for expected in (
        "Workshop Inovasi Pelayanan Publik",
        "Kamis, 8 Maret 2018",
        "Żaneta Ćwiek",
        "Bappeda",
        CODE,
        "Ruang Rapat Pangripta",
    ):
        assert expected in text


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing")
def test_ticket_pdf_qr_decodes(tmp_path):
    (tmp_path / "t.pdf").write_bytes(render_ticket_pdf(ticket()))
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "100",
            "-png",
            "-singlefile",
            str(tmp_path / "t.pdf"),
            str(tmp_path / "t"),
        ],
        check=True,
    )
    assert decode(Image.open(tmp_path / "t.png")) == [CODE]
