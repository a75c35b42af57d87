"""The e-ticket: QR on the manage page, QR files and PDF by the manage token, the PDF in
the confirmation mail. Everything is read back with real decoders (zxing-cpp, pypdf,
pdftoppm), so a QR that does not scan fails here."""

import io
import re
import shutil
import subprocess
from email import policy
from email.parser import BytesParser
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from tests.conftest import wib
from workshop.extensions import db
from workshop.models import Event, EventStatus, Registration
from workshop.services import mail, registration_lists
from workshop.services.tickets import ticket_filename

needs_pdftoppm = pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing"
)

# Thursday 24 and Friday 25 January 2030 (after FIXED_NOW), 08.00-16.00 WIB.
DATE_ID = "Kamis, 24 Januari 2030 – Jumat, 25 Januari 2030"
DATE_EN = "Thursday, 24 January 2030 – Friday, 25 January 2030"
NAME = "Ir. H. Abdul Najib, MM"


@pytest.fixture
def app_config(tmp_path):
    return {"MAIL_FILE_DIR": str(tmp_path / "mail")}


@pytest.fixture
def unit(make_unit):
    return make_unit(name="Badan Perencanaan Pembangunan Daerah", short_name="Bappeda")


@pytest.fixture
def event(make_event, unit):
    return make_event(
        title="Workshop Inovasi Pelayanan Publik",
        venue="Ruang Rapat Pangripta (Nusantara), Bappeda",
        starts_at=wib(2030, 1, 24, 8),
        ends_at=wib(2030, 1, 25, 16),
        unit_id=unit.id,
    )


@pytest.fixture
def confirmed(event, unit, register, person):
    return register(event, person(unit, name=NAME, email="najib@example.com")).registration


# --- readers --------------------------------------------------------------------


def decode(image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image)]


def rasterise_svg(data: bytes, scale: int = 8) -> Image.Image:
    """Paint the SVG path's unit squares (the only shapes qrcode writes) onto white."""
    root = ET.fromstring(data)  # noqa: S314 - our own output
    size = int(float(root.get("viewBox").split()[2]))
    image = Image.new("L", (size * scale, size * scale), 255)
    path = next(el for el in root.iter() if el.tag.endswith("path")).get("d")
    squares = [p for p in path.split("z") if p.startswith("M")]
    assert squares
    for part in squares:
        x, y = (float(v) for v in part[1:].split("H")[0].split(","))
        image.paste(
            0, (int(x * scale), int(y * scale), int(x * scale) + scale, int(y * scale) + scale)
        )
    return image


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), reader.pages[0].extract_text()


def pdf_qr(data: bytes, tmp_path) -> list[str]:
    """Render the PDF's page at 100 dpi, as a printer or screen would, and scan it."""
    (tmp_path / "ticket.pdf").write_bytes(data)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "100",
            "-png",
            "-singlefile",
            str(tmp_path / "ticket.pdf"),
            str(tmp_path / "ticket"),
        ],
        check=True,
    )
    return decode(Image.open(tmp_path / "ticket.png"))


def page(response) -> str:
    return response.get_data(as_text=True)


def ticket_spot(html: str) -> str:
    """The ticket section of the manage page."""
    return html.split('id="check-in"')[1].split("</section>")[0]


def routes(token: str) -> list[str]:
    return [f"/r/{token}/qr.png", f"/r/{token}/qr.svg", f"/r/{token}/ticket.pdf"]


def sent_mails(tmp_path) -> list:
    folder = tmp_path / "mail"
    result = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        with path.open("rb") as handle:
            result.append(BytesParser(policy=policy.default).parse(handle))
    return result


def attachments(message) -> list[tuple[str, str, bytes]]:
    return [
        (part.get_filename(), part.get_content_type(), part.get_content())
        for part in message.iter_attachments()
    ]


# --- the manage page ------------------------------------------------------------


def test_manage_page_shows_the_qr_code_and_ticket_links(client, confirmed):
    token = confirmed.manage_token
    html = page(client.get(f"/r/{token}"))
    spot = ticket_spot(html)
    img = re.search(r'<img src="([^"]+)"\s+width="(\d+)"', spot)
    assert img is not None
    assert img.group(1) == f"/r/{token}/qr.svg"
    assert int(img.group(2)) >= 250  # scannable from a phone screen
    assert confirmed.check_in_code in spot
    for label, href in (
        ("Unduh e-tiket (PDF)", f"/r/{token}/ticket.pdf"),
        ("QR (PNG)", f"/r/{token}/qr.png"),
        ("QR (SVG)", f"/r/{token}/qr.svg"),
    ):
        assert re.search(rf'href="{re.escape(href)}"[^>]*>{re.escape(label)}</a>', spot), label
    # The check-in code opens nothing, so the page never links to it.
    assert f"/r/{confirmed.check_in_code}" not in html


def test_qr_image_and_links_are_served_with_their_content_types(client, confirmed):
    spot = ticket_spot(page(client.get(f"/r/{confirmed.manage_token}")))
    img_src = re.search(r'<img src="([^"]+)"', spot).group(1)
    assert client.get(img_src).mimetype == "image/svg+xml"
    expected = {"qr.png": "image/png", "qr.svg": "image/svg+xml", "ticket.pdf": "application/pdf"}
    links = re.findall(r'href="(/r/[^"]+/(qr\.png|qr\.svg|ticket\.pdf))"', spot)
    assert {name for _href, name in links} == set(expected)
    for href, name in links:
        response = client.get(href)
        assert response.status_code == 200
        assert response.mimetype == expected[name]


@pytest.mark.parametrize("path", ["qr.png", "qr.svg", "ticket.pdf"])
def test_ticket_files_are_private(client, confirmed, path):
    response = client.get(f"/r/{confirmed.manage_token}/{path}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_svg_opened_alone_may_run_nothing(client, confirmed):
    response = client.get(f"/r/{confirmed.manage_token}/qr.svg")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"


# --- the QR files decode to the check-in code -----------------------------------


def test_png_decodes_to_the_check_in_code(client, confirmed):
    response = client.get(f"/r/{confirmed.manage_token}/qr.png")
    assert response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    assert image.width >= 250  # large enough to show as is
    assert decode(image) == [confirmed.check_in_code]
    assert confirmed.manage_token not in decode(image)[0]


def test_svg_decodes_to_the_check_in_code(client, confirmed):
    response = client.get(f"/r/{confirmed.manage_token}/qr.svg")
    assert response.mimetype == "image/svg+xml"
    assert decode(rasterise_svg(response.data)) == [confirmed.check_in_code]


# --- the PDF --------------------------------------------------------------------


@needs_pdftoppm
def test_pdf_is_one_page_with_the_details_and_a_scannable_qr(
    client, confirmed, event, unit, tmp_path
):
    response = client.get(f"/r/{confirmed.manage_token}/ticket.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="e-tiket-ir-h-abdul-najib-mm.pdf"'
    )
    pages, text = pdf_text(response.data)
    assert pages == 1
    for expected in (
        NAME,
        event.title,
        DATE_ID,
        "08.00 – 16.00 WIB",
        event.venue,
        unit.name,
        "Peserta",
        confirmed.check_in_code,
        "E-TIKET KEGIATAN",
        "Kode presensi",
        "Pemerintah Kabupaten Muara Enim",
    ):
        assert expected in text, expected
    assert pdf_qr(response.data, tmp_path) == [confirmed.check_in_code]


@pytest.mark.parametrize(("role", "word"), [("speaker", "Narasumber"), ("committee", "Panitia")])
def test_pdf_names_the_role_and_an_outside_institution(client, event, register, person, role, word):
    reg = register(
        event, person(name="Elke Rapp", institution="GIZ Transformasi", role=role)
    ).registration
    _pages, text = pdf_text(client.get(f"/r/{reg.manage_token}/ticket.pdf").data)
    assert f"Peran: {word}" in text
    assert "GIZ Transformasi" in text


@needs_pdftoppm
def test_english_ui_gives_an_english_ticket(client, confirmed, tmp_path):
    client.post("/auth/language", data={"lang": "en", "next": "/"})
    html = page(client.get(f"/r/{confirmed.manage_token}"))
    assert '<html lang="en">' in html  # the switch took effect
    response = client.get(f"/r/{confirmed.manage_token}/ticket.pdf")
    _pages, text = pdf_text(response.data)
    for expected in (
        "EVENT E-TICKET",
        "Check-in code",
        DATE_EN,
        "08:00 – 16:00 WIB",
        "Role: Participant",
        NAME,
    ):
        assert expected in text, expected
    for indonesian in ("E-TIKET KEGIATAN", "Kode presensi", "Kamis", "Peserta"):
        assert indonesian not in text, indonesian
    assert pdf_qr(response.data, tmp_path) == [confirmed.check_in_code]


@pytest.mark.parametrize(
    ("name", "filename"),
    [
        ("Ir. H. Abdul Najib, MM", "e-tiket-ir-h-abdul-najib-mm.pdf"),
        ("Nguyễn Thị Minh Khai", "e-tiket-nguyen-thi-minh-khai.pdf"),
        ("Đặng Żaneta Ćwiek", "e-tiket-dang-zaneta-cwiek.pdf"),
        ('CON <a>/b\\c:"d"|e?*', "e-tiket-con-a-b-c-d-e.pdf"),
        ("王小明", "e-tiket.pdf"),
        ("Sri " * 40, "e-tiket-" + ("sri-" * 15)[:59] + ".pdf"),
    ],
)
def test_pdf_filename_is_safe_on_windows(name, filename):
    assert ticket_filename(name) == filename
    assert re.fullmatch(r"e-tiket(-[a-z0-9]+)*\.pdf", filename)


# --- no valid ticket: no QR, nothing served -------------------------------------


@pytest.fixture
def without_ticket(app, client, make_event, register, person):
    """A waitlisted or a cancelled registration, each reached the real way."""

    def make(status: str) -> Registration:
        event = make_event(capacity=1, waitlist=True)
        first = register(event, person()).registration
        if status == "cancelled":
            assert client.post(f"/r/{first.manage_token}/cancel").status_code == 302
            with app.app_context():
                reg = db.session.get(Registration, first.id)
                db.session.expunge(reg)
            assert reg.status == "cancelled"
            return reg
        waiting = register(event, person()).registration
        assert waiting.status == "waitlisted"
        return waiting

    return make


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("waitlisted", "Tiket tersedia setelah pendaftaran terkonfirmasi"),
        ("cancelled", "Pendaftaran dibatalkan"),
    ],
)
def test_waitlisted_and_cancelled_have_no_ticket(client, without_ticket, status, reason):
    reg = without_ticket(status)
    html = page(client.get(f"/r/{reg.manage_token}"))
    spot = ticket_spot(html)
    assert reason in spot
    assert "<img" not in spot
    assert reg.check_in_code not in html
    for file_name in ("/qr.png", "/qr.svg", "/ticket.pdf"):
        assert file_name not in html
    for url in routes(reg.manage_token):
        assert client.get(url).status_code == 404, url


def test_cancelled_event_has_no_valid_ticket(app, client, confirmed, event):
    with app.app_context():
        db.session.get(Event, event.id).status = EventStatus.CANCELLED
        db.session.commit()
    html = page(client.get(f"/r/{confirmed.manage_token}"))
    assert "Kegiatan dibatalkan, sehingga tiket tidak berlaku." in ticket_spot(html)
    assert "<img" not in ticket_spot(html)
    for url in routes(confirmed.manage_token):
        assert client.get(url).status_code == 404, url


def test_files_are_addressed_by_the_manage_token_only(client, confirmed):
    """A photographed QR (the check-in code) must open nothing."""
    for url in [*routes(confirmed.check_in_code), *routes("not-a-real-token"), *routes("x" * 200)]:
        assert client.get(url).status_code == 404, url
    for url in routes(confirmed.manage_token):
        assert client.get(url).status_code == 200, url


# --- the mail -------------------------------------------------------------------


@needs_pdftoppm
def test_confirmation_mail_carries_the_pdf_ticket(client, event, unit, tmp_path):
    """Registered through the real form, from an English UI: the mail and its PDF ticket
    are in English (the ticket is rendered when the mail is sent, in the mail's language),
    and the ticket's QR scans to the check-in code."""
    client.post("/auth/language", data={"lang": "en", "next": "/"})
    response = client.post(
        f"/events/{event.id}/register",
        data={
            "name": NAME,
            "email": "najib@example.com",
            "phone": "0812-3456-7890",
            "employment_status": "pns",
            "nip": "19680411 199303 1 009",
            "position": "Kepala Bappeda",
            "unit": str(unit.id),
            "institution": "",
        },
    )
    assert response.status_code == 302
    token = urlsplit(response.headers["Location"]).path.rsplit("/", 1)[1]
    with client.application.app_context():
        reg = registration_lists.by_manage_token(token)
        code = reg.check_in_code
    [message] = sent_mails(tmp_path)
    assert message["To"] == "najib@example.com"
    assert message["Subject"].startswith("Registration confirmed")
    [(filename, content_type, data)] = [
        a for a in attachments(message) if a[1] == "application/pdf"
    ]  # beside the .ics
    assert (filename, content_type) == ("e-tiket-ir-h-abdul-najib-mm.pdf", "application/pdf")
    pages, text = pdf_text(data)
    assert pages == 1
    for expected in ("EVENT E-TICKET", "Check-in code", DATE_EN, NAME, event.title, code):
        assert expected in text, expected
    assert "E-TIKET KEGIATAN" not in text
    assert pdf_qr(data, tmp_path) == [code]


@needs_pdftoppm
def test_the_ticket_follows_the_mail_even_when_sent_later(
    app, runner, event, unit, person, register, tmp_path
):
    """Queued in Indonesian and sent later by `flask send-mail` (no request, no UI
    language): the ticket is the Indonesian one, like the mail's text."""
    app.config["MAIL_DELIVERY"] = "outbox"
    register(event, person(unit))
    assert sent_mails(tmp_path) == []
    assert runner.invoke(args=["send-mail"]).exit_code == 0
    [message] = sent_mails(tmp_path)
    assert message["Subject"].startswith("Pendaftaran terkonfirmasi")
    [data] = [a[2] for a in attachments(message) if a[1] == "application/pdf"]
    _pages, text = pdf_text(data)
    assert "E-TIKET KEGIATAN" in text and "EVENT E-TICKET" not in text


def test_promotion_mail_carries_the_ticket_and_waitlist_mail_does_not(
    client, make_event, register, person, tmp_path
):
    event = make_event(capacity=1, waitlist=True)
    first = register(event, person()).registration
    second = register(event, person(name="Dina Limanto")).registration
    client.post(f"/r/{first.manage_token}/cancel")
    by_subject = {m["Subject"]: m for m in sent_mails(tmp_path) if m["To"] == second.email}
    [waiting] = [m for s, m in by_subject.items() if "daftar tunggu" in s]
    [promoted] = [m for s, m in by_subject.items() if "mendapat tempat" in s]
    assert attachments(waiting) == []
    [(filename, content_type, data)] = [
        a for a in attachments(promoted) if a[1] == "application/pdf"
    ]  # beside the .ics
    assert (filename, content_type) == ("e-tiket-dina-limanto.pdf", "application/pdf")
    assert second.check_in_code in pdf_text(data)[1]
    cancelled = [
        m for m in sent_mails(tmp_path) if m["To"] == first.email and "dibatalkan" in m["Subject"]
    ]
    assert cancelled
    assert attachments(cancelled[0]) == []


def test_no_ticket_is_attached_once_the_registration_is_cancelled(app, confirmed, tmp_path):
    """A confirmation retried after the participant cancelled carries no valid ticket."""
    with app.app_context():
        reg = db.session.get(Registration, confirmed.id)
        queued = mail.queue_registration_mail(reg, "registration.confirmed")
        assert {"kind": "ticket_pdf"} in queued.attachments
        reg.status = "cancelled"
        db.session.commit()
        before = len(sent_mails(tmp_path))
        assert mail.deliver([queued.id]) == {"sent": 1, "failed": 0}
    newest = sent_mails(tmp_path)[before:]
    assert len(newest) == 1
    assert attachments(newest[0]) == []


def test_attachments_are_registered_once_however_often_the_app_starts(app):
    from workshop import create_app

    create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert mail.KIND_ATTACHMENTS["registration.confirmed"] == ["ticket_pdf", "event_ics"]
    assert mail.KIND_ATTACHMENTS["registration.promoted"] == ["ticket_pdf", "event_ics"]
    assert "registration.waitlisted" not in mail.KIND_ATTACHMENTS
    assert "ticket_pdf" in mail.ATTACHMENTS
