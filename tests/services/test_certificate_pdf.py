"""The certificate PDF, read back by real tools (pypdf, pdftoppm, zxing-cpp), and the
pieces around it: Indonesian dates and JP in words, file names, the ZIP stream, the print
PDF, the logo cache and the settings rules."""

import io
import zipfile
from dataclasses import replace
from datetime import date

import pytest
from PIL import Image
from pypdf import PdfReader

from tests.certificate_support import decode_qr, needs_pdftoppm, pdf_text
from workshop.services import certificate_pdf
from workshop.services.certificate_files import (
    certificate_filename,
    unique_name,
    zip_stream,
)
from workshop.services.certificate_pdf import (
    CertificateData,
    days_text,
    format_nip,
    number_words,
    render_certificate_pdf,
    render_certificates_pdf,
    sign_place_date,
)

URL = "https://workshop.muaraenimkab.go.id/verify/Xy3kPq9LmN0aBcDeFgHiJw"


def reference(**changes) -> CertificateData:
    data = CertificateData(
        number="001/SERT/BAPPEDA/III/2018",
        name="Ir. H. Abdul Najib, MM",
        nip=format_nip("196804111993031009"),
        position="Kepala Bidang",
        affiliation="Badan Perencanaan Pembangunan Daerah",
        role="participant",
        event_title="Workshop Inovasi Pelayanan Publik",
        organizer="Bagian Organisasi Setda, Pemerintah Kabupaten Muara Enim",
        date_text=days_text([date(2018, 3, 8), date(2018, 3, 9)]),
        venue="Ruang Rapat Pangripta (Nusantara), Bappeda Kabupaten Muara Enim",
        hours=16,
        sign_place_date=sign_place_date("Muara Enim", date(2018, 3, 9)),
        signatory_title="Kepala Badan Perencanaan Pembangunan Daerah Kabupaten Muara Enim",
        signatory_name="Ir. H. Abdul Najib, MM",
        signatory_rank="Pembina Utama Muda (IV/c)",
        signatory_nip=format_nip("196503121990031005"),
        verify_url=URL,
        verification_code="Xy3kPq9LmN0aBcDeFgHiJw",
        government="Pemerintah Kabupaten Muara Enim",
        unit_name="Bagian Organisasi Setda",
    )
    return replace(data, **changes)


def png_bytes(size=(40, 40), mode="RGBA", fmt="PNG", color=(200, 30, 30, 255)) -> bytes:
    out = io.BytesIO()
    image = Image.new(mode, size, color if mode == "RGBA" else color[:3])
    image.save(out, format=fmt)
    return out.getvalue()


def test_text_page_size_and_fixed_words():
    pdf = render_certificate_pdf(reference())
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert round(float(box.width)) == 842 and round(float(box.height)) == 595  # A4 landscape
    text = pdf_text(pdf)
    for expected in (
        "SERTIFIKAT",
        "Nomor: 001/SERT/BAPPEDA/III/2018",
        "diberikan kepada",
        "Ir. H. Abdul Najib, MM",
        "NIP. 19680411 199303 1 009",
        "Peserta",
        "telah mengikuti",
        "Workshop Inovasi Pelayanan Publik",
        "8–9 Maret 2018",
        "Ruang Rapat Pangripta",
        "16 (enam belas) jam pelajaran (JP)",
        "Muara Enim, 9 Maret 2018",
        "Pembina Utama Muda (IV/c)",
        "NIP. 19650312 199003 1 005",
        "Pindai untuk verifikasi keaslian",
        "Xy3kPq9LmN0aBcDeFgHiJw",
        "PEMERINTAH KABUPATEN MUARA ENIM",
    ):
        assert expected in text.replace("S E R T I F I K A T", "SERTIFIKAT"), expected
    assert "CONTOH" not in text


@pytest.mark.parametrize(
    "name",
    [
        "Nguyễn Thị Minh Khai",
        "Żaneta Ćwiek",
        "Prof. Dr. Ir. Hj. Siti Nurhaliza Kusumawardhani, M.Sc.",
    ],
)
def test_names_print_exactly(name):
    text = pdf_text(render_certificate_pdf(reference(name=name, nip="")))
    assert name in text
    assert "NIP." in text  # the signatory's, the participant has none
    assert text.count("NIP.") == 1


def test_a_very_long_name_is_kept_whole_on_two_lines():
    name = (
        "Prof. Dr. Ir. Hj. Siti Nurhaliza Kusumawardhani Puspitasari Wijayakusuma "
        "Kartikasari, S.T., M.Sc., M.Eng., Ph.D."
    )
    text = pdf_text(render_certificate_pdf(reference(name=name)))
    assert (
        " ".join(text.split()).count("Wijayakusuma Kartikasari") + text.count("Kartikasari, S.T.")
        >= 1
    )
    assert "Ph.D." in text and "…" not in text


@pytest.mark.parametrize(
    ("role", "word"),
    [("participant", "Peserta"), ("speaker", "Narasumber"), ("committee", "Panitia")],
)
def test_role(role, word):
    assert f"sebagai {word}" in pdf_text(render_certificate_pdf(reference(role=role)))


def test_english_fixed_text():
    data = reference(
        language="en",
        date_text=days_text([date(2018, 3, 8)], "en"),
        sign_place_date=sign_place_date("Muara Enim", date(2018, 3, 9), "en"),
        role="speaker",
    )
    text = pdf_text(render_certificate_pdf(data))
    for expected in (
        "CERTIFICATE",
        "Number: 001/SERT/BAPPEDA/III/2018",
        "is awarded to",
        "as a Speaker",
        "for having attended",
        "Thursday, 8 March 2018",
        "16 (sixteen) lesson hours (JP)",
        "Muara Enim, 9 March 2018",
        "Scan to verify authenticity",
    ):
        assert expected in text.replace("C E R T I F I C A T E", "CERTIFICATE"), expected
    assert "diberikan kepada" not in text


def test_no_hours_line_without_jp_and_sample_is_marked():
    text = pdf_text(render_certificate_pdf(reference(hours=None, sample=True)))
    assert "jam pelajaran" not in text
    assert "CONTOH" in text


@needs_pdftoppm
def test_qr_decodes_to_the_verification_url(tmp_path):
    assert decode_qr(render_certificate_pdf(reference()), tmp_path) == [URL]


def test_dates_in_indonesian_and_english():
    assert days_text([date(2018, 3, 8)]) == "Kamis, 8 Maret 2018"
    assert days_text([date(2018, 3, 9), date(2018, 3, 8)]) == "8–9 Maret 2018"
    assert days_text([date(2018, 2, 28), date(2018, 3, 1)]) == "28 Februari – 1 Maret 2018"
    assert days_text([date(2018, 12, 31), date(2019, 1, 1)]) == "31 Desember 2018 – 1 Januari 2019"
    assert (
        days_text([date(2018, 3, 8), date(2018, 3, 10), date(2018, 3, 12)])
        == "8, 10 dan 12 Maret 2018"
    )
    assert days_text([date(2018, 3, 8), date(2018, 3, 9)], "en") == "8–9 March 2018"
    assert sign_place_date("Muara Enim", date(2018, 3, 9)) == "Muara Enim, 9 Maret 2018"
    assert sign_place_date("", None) == ""


def test_number_words_and_nip():
    assert [number_words(n) for n in (1, 11, 12, 16, 20, 32, 100, 116, 200)] == [
        "satu",
        "sebelas",
        "dua belas",
        "enam belas",
        "dua puluh",
        "tiga puluh dua",
        "seratus",
        "seratus enam belas",
        "dua ratus",
    ]
    assert [number_words(n, "en") for n in (16, 40, 32, 105)] == [
        "sixteen",
        "forty",
        "thirty-two",
        "one hundred and five",
    ]
    assert format_nip("196804111993031009") == "19680411 199303 1 009"
    assert format_nip(None) == ""


WINDOWS_BAD = set('<>:"/\\|?*')


@pytest.mark.parametrize(
    ("number", "name"),
    [
        ("001/SERT/BAPPEDA/III/2018", "Ir. H. Abdul Najib, MM"),
        ("002/SERT/BAPPEDA/III/2018", 'Nguyễn "Khai" <Thị>: Minh? *|\\'),
        ("003/X", "CON"),
        ("004/X", "Żaneta Ćwiek..."),
        ("005/X", "A" * 300),
    ],
)
def test_file_names_are_safe_for_windows(number, name):
    filename = certificate_filename(number, name)
    stem = filename[:-4]
    assert filename.endswith(".pdf")
    assert not WINDOWS_BAD & set(filename)
    assert filename.isascii() and filename.isprintable()
    assert stem == stem.rstrip(". ") and stem
    assert len(filename) <= 104
    assert stem.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL"}
    assert stem.startswith(number.replace("/", "-")) or stem.startswith("sertifikat")


def test_file_names_made_unique_ignoring_case():
    seen: set[str] = set()
    names = [unique_name(n, seen) for n in ("a.pdf", "A.pdf", "a.pdf", "b.pdf")]
    assert names == ["a.pdf", "A (2).pdf", "a (3).pdf", "b.pdf"]
    assert (
        certificate_filename("001/SERT", "Ir. H. Abdul Najib, MM")
        == "001-SERT Ir. H. Abdul Najib, MM.pdf"
    )


class FakeCertificate:
    def __init__(self, n):
        from datetime import UTC, datetime

        self.issued_at = datetime(2018, 3, 9, 3, tzinfo=UTC)
        self.number = f"{n:03d}"


def test_zip_stream_yields_one_pdf_per_certificate_as_it_goes():
    items = [
        (FakeCertificate(n), reference(number=f"{n:03d}/SERT", name=name))
        for n, name in ((1, "Ani"), (2, "Budi"), (3, "Ani"))
    ]
    chunks = list(zip_stream(iter(items)))
    assert len(chunks) == 4  # one chunk per certificate, then the central directory
    assert all(chunks[:3])
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.testzip() is None
    assert archive.namelist() == ["001-SERT Ani.pdf", "002-SERT Budi.pdf", "003-SERT Ani.pdf"]
    for name in archive.namelist():
        reader = PdfReader(io.BytesIO(archive.read(name)))
        assert len(reader.pages) == 1


def test_print_pdf_has_one_page_per_certificate_and_the_logo_once():
    out = io.BytesIO()
    people = [
        reference(
            number=f"{n:03d}/SERT",
            name=f"Peserta {n}",
            verification_code=f"code{n}",
            verify_url=f"{URL}{n}",
        )
        for n in range(1, 6)
    ]
    assert render_certificates_pdf(iter(people), out, title="Cetak") == 5
    reader = PdfReader(io.BytesIO(out.getvalue()))
    assert len(reader.pages) == 5
    assert "Peserta 3" in reader.pages[2].extract_text()
    images = set()
    for page in reader.pages:
        for ref in page["/Resources"]["/XObject"].values():
            images.add(ref.idnum)
    assert len(images) == 1  # the logo is embedded once and reused on every page
    single = len(render_certificate_pdf(people[0]))
    assert len(out.getvalue()) < 2.5 * single  # five pages, far less than five files


def test_logo_is_prepared_once_per_content():
    red, blue = png_bytes(), png_bytes(color=(0, 0, 200, 255))
    assert certificate_pdf.logo_for(red) is certificate_pdf.logo_for(bytes(red))
    assert certificate_pdf.logo_for(blue) is not certificate_pdf.logo_for(red)
    assert certificate_pdf.logo_for(None) is certificate_pdf.logo_for(None)
    big = png_bytes(size=(2000, 1000))
    assert max(certificate_pdf.logo_for(big).size) <= certificate_pdf.LOGO_MAX_PIXELS


@pytest.mark.parametrize(
    "logo",
    [png_bytes(), png_bytes(mode="RGB", fmt="JPEG"), png_bytes(mode="RGBA", size=(600, 300))],
)
def test_uploaded_logos_render(logo):
    reader = PdfReader(io.BytesIO(render_certificate_pdf(reference(logo=logo))))
    xobjects = reader.pages[0]["/Resources"]["/XObject"]
    assert len(xobjects) == 1
