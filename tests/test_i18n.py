"""Translations: Bahasa Indonesia is the source language; the English catalog is complete.

The catalog is checked against a fresh extraction of the source (every message, every
plural form, placeholders and markup kept), and the main pages and the outgoing mail are
rendered in English to show that no Indonesian interface text is left — only data.
"""

import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from flask_babel import force_locale

from workshop.extensions import db
from workshop.models import OutgoingMail, Role
from workshop.services import mail as mail_service

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "translations/en/LC_MESSAGES/messages.po"


def msg_key(message) -> tuple[str | None, str]:
    return message.context, message.id if isinstance(message.id, str) else message.id[0]


def extract(tmp_path) -> set[tuple[str | None, str]]:
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            str(ROOT / "workshop"),
            str(ROOT / "templates"),
        ]
    )
    with pot.open("rb") as f:
        return {msg_key(m) for m in read_po(f) if m.id}


def catalog():
    with CATALOG.open("rb") as f:
        return read_po(f)


def forms(message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


def test_every_message_has_an_english_translation(tmp_path):
    translated = {
        msg_key(m) for m in catalog() if m.id and not m.fuzzy and all(s.strip() for s in forms(m))
    }
    missing = sorted(extract(tmp_path) - translated, key=str)
    assert missing == [], f"{len(missing)} messages lack an English translation: {missing[:20]}"


PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%|\{\w+\}|</?\w+>")


def test_translations_keep_placeholders_and_markup():
    """%(name)s, {seq} and <strong> must survive translation, in every plural form."""
    cat = catalog()
    problems = [(m.id, errors) for m, errors in cat.check()]
    for m in cat:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        wanted = sorted(set(PLACEHOLDER.findall(ids[-1])))
        for text in forms(m):
            if sorted(set(PLACEHOLDER.findall(text))) != wanted:
                problems.append((m.id, text))
    assert problems == []


def test_pages_switch_language(client):
    html = client.get("/").get_data(as_text=True)
    assert 'lang="id"' in html
    assert "Kegiatan" in html
    with client.session_transaction() as session:
        session["lang"] = "en"
    html = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in html
    assert "Events" in html
    assert "Kegiatan" not in html


def test_login_page_in_both_languages(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert "Masuk" in html and "Kata sandi" in html
    with client.session_transaction() as session:
        session["lang"] = "en"
    html = client.get("/auth/login").get_data(as_text=True)
    assert "Password" in html
    assert "Kata sandi" not in html


# --- no Indonesian left on the main pages -------------------------------------------

# Words of the interface that no English sentence contains.
INDONESIAN = re.compile(
    r"\b(dan|yang|untuk|tidak|Anda|dengan|atau|belum|sudah|bila|Bila|ini|dari|ke|di|pada|"
    r"oleh|kegiatan|Kegiatan|pendaftaran|Pendaftaran|peserta|Peserta|Simpan|Batal|Masuk|"
    r"Keluar|Daftar|daftar|Unduh|Tanggal|Waktu|Tempat|Hari|hari|Sertifikat|sertifikat|"
    r"Kembali|Cari|Lihat|Ubah|Hadir|hadir|Jabatan|Instansi|Kuota|kuota|Panitia|Narasumber|"
    r"Penyelenggara|Kapasitas|Tutup|Sebelumnya|Berikutnya|Semua|Pilih|Wajib|Tambah|Hapus|"
    r"Selesai|Mulai|Presensi|presensi|orang|Nama|nama|Kata sandi|Petugas|Pengguna|Laporan|"
    r"Berkas|berkas|Tautan|tautan|Terdaftar|Dibatalkan|Draf|Terbitkan|Impor|Kirim)\b"
)

# Data and names that stay as they are in either language.
DATA = [
    "Workshop Inovasi Pelayanan Publik",
    "Ruang Rapat Pangripta, Bappeda",
    "Badan Perencanaan Pembangunan Daerah",
    "Pemerintah Kabupaten Muara Enim",
    "Pemerintah Kota Bandung",
    "Ir. H. Abdul Najib, MM",
    "Kepala Bappeda",
    "Bahasa Indonesia",
    "Dinas Contoh",
    "Peserta Satu",
    # The import file's Indonesian column names and role words, accepted beside the English.
    "nama / name",
    "Peserta, Narasumber and Panitia",
]
ATTRIBUTES = {"aria-label", "title", "placeholder", "alt", "data-busy-text"}


class VisibleText(HTMLParser):
    """Text a user reads or hears: content outside script/style, and labelling attributes."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        self.parts.extend(v for k, v in attrs if k in ATTRIBUTES and v)
        if tag == "input" and dict(attrs).get("type") in ("submit", "button"):
            self.parts.append(dict(attrs).get("value") or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def indonesian_left(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    text = " ".join(parser.parts)
    for value in DATA:
        text = text.replace(value, " ")
    return sorted({m.group(0) for m in INDONESIAN.finditer(text)})


@pytest.fixture
def site(app, client, make_user, make_unit, make_event, login):
    """A published event with one registration, seen in English by ``role``."""
    unit = make_unit(name="Badan Perencanaan Pembangunan Daerah", short_name="Bappeda")
    organizer = make_user(Role.ORGANIZER)
    event = make_event(owner=organizer, capacity=40, waitlist=True)
    with client.session_transaction() as session:
        session["lang"] = "en"
    response = client.post(
        f"/events/{event.id}/register",
        data={
            "name": "Ir. H. Abdul Najib, MM",
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
    users = {
        "anonymous": None,
        Role.ORGANIZER: organizer,
        Role.ADMIN: make_user(Role.ADMIN),
        Role.PARTICIPANT: make_user(Role.PARTICIPANT, name="Peserta Satu"),
    }

    def visit(role, url: str, lang: str = "en"):
        if users[role] is not None:
            login(users[role])
        client.post("/auth/language", data={"lang": lang})
        return client.get(url.format(e=event.id, token=token))

    token = urlsplit(response.headers["Location"]).path.rsplit("/", 1)[1]
    return visit


MAIN_PAGES = [
    ("anonymous", "/"),
    ("anonymous", "/events/{e}"),
    ("anonymous", "/events/{e}/register"),
    ("anonymous", "/auth/login"),
    ("anonymous", "/r/{token}"),
    ("anonymous", "/r/{token}/cancel"),
    ("anonymous", "/verify"),
    (Role.PARTICIPANT, "/my/events"),
    (Role.PARTICIPANT, "/auth/password"),
    (Role.ORGANIZER, "/organizer/events"),
    (Role.ORGANIZER, "/organizer/events/new"),
    (Role.ORGANIZER, "/organizer/events/{e}/edit"),
    (Role.ORGANIZER, "/organizer/events/{e}/cancel"),
    (Role.ORGANIZER, "/organizer/events/{e}/registrations"),
    (Role.ORGANIZER, "/organizer/events/{e}/registrations/new"),
    (Role.ORGANIZER, "/organizer/events/{e}/registrations/import"),
    (Role.ORGANIZER, "/organizer/events/{e}/registrations/mail"),
    (Role.ORGANIZER, "/organizer/events/{e}/certificates"),
    (Role.ORGANIZER, "/organizer/events/{e}/certificates/settings"),
    (Role.ORGANIZER, "/organizer/events/{e}/dashboard"),
    (Role.ORGANIZER, "/checkin/"),
    (Role.ORGANIZER, "/checkin/events/{e}"),
    (Role.ORGANIZER, "/checkin/events/{e}/staff"),
    (Role.ADMIN, "/admin/users"),
    (Role.ADMIN, "/admin/users/new"),
    (Role.ADMIN, "/admin/units"),
    (Role.ADMIN, "/admin/units/new"),
    (Role.ADMIN, "/admin/reports/units"),
    (Role.ADMIN, "/admin/reports/jp"),
]


@pytest.mark.parametrize(("role", "url"), MAIN_PAGES)
def test_main_pages_have_no_indonesian_left_in_english(site, role, url):
    response = site(role, url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert indonesian_left(html) == []


@pytest.mark.parametrize("url", ["/events/{e}", "/r/{token}"])
def test_the_check_notices_indonesian(site, url):
    """The same pages in Indonesian fail the check above, so it would notice a gap."""
    assert {"Kegiatan", "Pendaftaran"} <= set(
        indonesian_left(site("anonymous", url, lang="id").get_data(as_text=True))
    )


# --- mail in the registrant's language ----------------------------------------------


def register_in(client, event_id: int, unit_id: int, lang: str) -> None:
    with client.session_transaction() as session:
        session["lang"] = lang
    response = client.post(
        f"/events/{event_id}/register",
        data={
            "name": "Ir. H. Abdul Najib, MM",
            "email": f"najib-{lang}@example.com",
            "phone": "0812-3456-7890",
            "employment_status": "pns",
            "nip": "19680411 199303 1 009" if lang == "id" else "19700101 199503 1 002",
            "position": "Kepala Bappeda",
            "unit": str(unit_id),
            "institution": "",
        },
    )
    assert response.status_code == 302


def queued(app, email: str) -> SimpleNamespace:
    """The queued mail to ``email``: its subject, and its text as composed when sent."""
    with app.app_context():
        mail = db.session.scalar(sa.select(OutgoingMail).where(OutgoingMail.to == email))
        with force_locale(mail.locale):
            body_text, body_html = mail_service.compose(mail)
        return SimpleNamespace(subject=mail.subject, body_text=body_text, body_html=body_html)


@pytest.fixture
def app_config(tmp_path):
    return {"MAIL_FILE_DIR": str(tmp_path / "mail")}


def test_confirmation_mail_follows_the_language_of_the_registration(
    app, client, make_event, make_unit
):
    unit = make_unit(name="Badan Perencanaan Pembangunan Daerah", short_name="Bappeda")
    event = make_event()
    register_in(client, event.id, unit.id, "id")
    register_in(client, event.id, unit.id, "en")

    indonesian = queued(app, "najib-id@example.com")
    assert indonesian.subject == f"Pendaftaran terkonfirmasi: {event.title}"
    assert indonesian.body_text.startswith(
        "Yth. Ir. H. Abdul Najib, MM,\n\nPendaftaran Anda sudah terkonfirmasi.\n"
    )
    assert f"Kegiatan : {event.title}\n" in indonesian.body_text
    assert "Peran    : Peserta\n" in indonesian.body_text
    assert "Pendaftaran Anda sudah <strong>terkonfirmasi</strong>." in indonesian.body_html

    english = queued(app, "najib-en@example.com")
    assert english.subject == f"Registration confirmed: {event.title}"
    assert english.body_text.startswith(
        "Dear Ir. H. Abdul Najib, MM,\n\nYour registration is confirmed.\n"
    )
    assert f"Event    : {event.title}\n" in english.body_text
    assert "Role     : Participant\n" in english.body_text
    assert "Your registration is <strong>confirmed</strong>." in english.body_html
    assert '<html lang="en">' in english.body_html
    for body in (english.body_text, english.body_html):
        assert indonesian_left(body.replace("Workshop Inovasi Pelayanan Publik", "")) == []


def test_mail_escapes_the_name_inside_translated_markup(app, client, make_event, make_unit):
    unit = make_unit()
    event = make_event()
    with client.session_transaction() as session:
        session["lang"] = "en"
    client.post(
        f"/events/{event.id}/register",
        data={
            "name": "<b>Dina</b>",
            "email": "dina@example.com",
            "employment_status": "non_asn",
            "unit": str(unit.id),
            "institution": "",
        },
    )
    mail = queued(app, "dina@example.com")
    assert "Dear &lt;b&gt;Dina&lt;/b&gt;," in mail.body_html
    assert "Dear <b>Dina</b>," in mail.body_text
