"""Public registration pages: the form, the private manage page, resend, "My events"."""

import html
import re
from datetime import timedelta
from email import policy
from email.parser import BytesParser
from urllib.parse import urlsplit

import pytest
from markupsafe import escape

from tests.conftest import FIXED_NOW
from workshop.extensions import db, limiter
from workshop.models import EventStatus, Registration, Role, User

VALID_NIP = "19680411 199303 1 009"


# --- fixtures and helpers ----------------------------------------------------


def mail_config(tmp_path, **extra) -> dict:
    return {"MAIL_FILE_DIR": str(tmp_path / "mail"), **extra}


@pytest.fixture
def app_config(tmp_path):
    return mail_config(tmp_path)


@pytest.fixture
def mails(tmp_path):
    """The messages written so far, each as (To, subject, plain text)."""

    def read() -> list[tuple[str, str, str]]:
        folder = tmp_path / "mail"
        result = []
        for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
            with path.open("rb") as handle:
                message = BytesParser(policy=policy.default).parse(handle)
            body = message.get_body(preferencelist=("plain",)).get_content()
            result.append((message["To"], message["Subject"], body))
        return result

    return read


@pytest.fixture
def unit(make_unit):
    return make_unit(name="Badan Perencanaan Pembangunan Daerah", short_name="Bappeda")


def form_data(from_unit=None, /, **changes) -> dict[str, str]:
    """A valid registration form as the browser posts it (a PNS from ``from_unit``, else
    from an outside institution); keyword arguments change or (None) drop fields."""
    data = {
        "name": "Ir. H. Abdul Najib, MM",
        "email": "najib@example.com",
        "phone": "0812-3456-7890",
        "employment_status": "pns",
        "nip": VALID_NIP,
        "position": "Kepala Bappeda",
        "unit": str(from_unit.id) if from_unit is not None else "other",
        "institution": "" if from_unit is not None else "Pemerintah Kota Bandung",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def page(response) -> str:
    return response.get_data(as_text=True)


def field_error(response, field_id: str) -> str:
    """The text of the error shown next to ``field_id`` ('' if none)."""
    match = re.search(rf'id="{field_id}-error"[^>]*>(.*?)</div>', page(response), re.S)
    return html.unescape(match.group(1)).strip() if match else ""


def error_ids(response) -> set[str]:
    return set(re.findall(r'id="([\w-]+)-error"', page(response)))


def input_value(response, field_id: str) -> str | None:
    match = re.search(rf'<input[^>]*\bid="{field_id}"[^>]*>', page(response))
    if match is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else ""


def selected_option(response, select_id: str) -> str | None:
    select = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', page(response), re.S)
    chosen = re.search(r'<option selected value="([^"]*)"', select.group(1))
    return chosen.group(1) if chosen else None


def checked_radio(response, name: str) -> str | None:
    for tag in re.findall(rf'<input[^>]*name="{name}"[^>]*>', page(response)):
        if " checked" in tag:
            return re.search(r'value="([^"]*)"', tag).group(1)
    return None


def rows(app, **where) -> list[Registration]:
    with app.app_context():
        query = db.select(Registration).filter_by(**where).order_by(Registration.id)
        result = list(db.session.scalars(query))
        db.session.expunge_all()
        return result


def reload(app, model, obj_id):
    with app.app_context():
        obj = db.session.get(model, obj_id)
        db.session.expunge(obj)
        return obj


def register_url(event) -> str:
    return f"/events/{event.id}/register"


# --- the form page -----------------------------------------------------------


def test_form_shows_event_seats_and_choices(client, make_event, make_unit, unit):
    make_unit(name="Dinas Lama", short_name="DL", active=False)
    event = make_event(capacity=60, unit_quota=2)
    response = client.get(register_url(event))
    assert response.status_code == 200
    text = page(response)
    assert event.title in text
    assert "Jumat, 25 Januari 2030" in text
    assert "08.00 WIB" in text
    assert event.venue in text
    assert "Sisa kuota: 60 dari 60 tempat." in text
    assert "Kuota per unit kerja: 2 orang." in text
    assert (
        f'<option value="{unit.id}">Badan Perencanaan Pembangunan Daerah (Bappeda)</option>'
    ) in text
    assert "Dinas Lama" not in text  # inactive units are not offered
    assert (
        '<option value="other">Instansi lain (di luar Pemerintah Kabupaten Muara Enim)</option>'
    ) in text
    assert "— Pilih unit kerja —" in text
    assert "NIP / NI PPPK" in text
    assert "contoh 0812-3456-7890" in text
    assert "persis seperti yang ingin dicetak" in text
    for value, label in (("pns", "PNS"), ("pppk", "PPPK"), ("non_asn", "Non-ASN")):
        assert f'value="{value}"' in text and f">{label}</label>" in text
    assert 'id="registration-form"' in text
    assert "Kirim ulang tautan pengelolaan" in text
    assert "js/registration-form.js" in text
    assert "Simpan data ini ke profil saya" not in text  # anonymous: no profile


def test_unknown_event_is_404(client):
    assert client.get("/events/999999/register").status_code == 404
    assert client.post("/events/999999/register", data=form_data()).status_code == 404


def test_successful_registration_stores_redirects_and_mails(app, client, make_event, unit, mails):
    event = make_event()
    response = client.post(register_url(event), data=form_data(unit))
    assert response.status_code == 302
    [reg] = rows(app, event_id=event.id)
    assert (reg.name, reg.email, reg.phone, reg.nip, reg.unit_id, reg.status) == (
        "Ir. H. Abdul Najib, MM",
        "najib@example.com",
        "+6281234567890",
        "196804111993031009",
        unit.id,
        "confirmed",
    )
    assert reg.user_id is None
    assert urlsplit(response.headers["Location"]).path == f"/r/{reg.manage_token}"

    shown = client.get(response.headers["Location"])
    text = page(shown)
    assert "Pendaftaran berhasil" in text
    assert "Terdaftar" in text
    assert reg.check_in_code in text
    assert f"http://workshop.test/r/{reg.manage_token}" in text
    assert "Simpan tautan pribadi ini" in text

    [(to, subject, body)] = mails()
    assert to == "najib@example.com"
    assert event.title in subject
    assert f"http://workshop.test/r/{reg.manage_token}" in body


def test_guest_from_other_regency_without_nip(app, client, make_event):
    event = make_event()
    response = client.post(
        register_url(event),
        data=form_data(
            employment_status="non_asn",
            nip="",
            unit="other",
            institution="Pemerintah Kabupaten Purworejo",
        ),
    )
    assert response.status_code == 302
    [reg] = rows(app, event_id=event.id)
    assert (reg.unit_id, reg.institution, reg.nip) == (None, "Pemerintah Kabupaten Purworejo", None)
    assert "Pemerintah Kabupaten Purworejo" in page(client.get(response.headers["Location"]))


def test_institution_typed_with_unit_left_unchosen_counts_as_other(app, client, make_event):
    """Without JavaScript both fields are visible; typing only the institution is enough."""
    event = make_event()
    response = client.post(register_url(event), data=form_data(unit="", institution="Pemkot Bogor"))
    assert response.status_code == 302
    assert rows(app, event_id=event.id)[0].institution == "Pemkot Bogor"


# --- bad input -----------------------------------------------------------------

INVALID = [
    pytest.param({"nip": "19680411 199303 1 00"}, "nip", "NIP harus 18 digit", id="nip-17"),
    pytest.param({"nip": "19680411 199303 1 0A9"}, "nip", "NIP harus 18 digit", id="nip-letters"),
    pytest.param(
        {"nip": "19680231 199303 1 009"},
        "nip",
        "tanggal lahir yang valid",
        id="nip-impossible-date",
    ),
    pytest.param(
        {"email": "najib.example.com"}, "email", "Alamat email tidak valid", id="email-without-at"
    ),
    pytest.param(
        {"phone": "0812-ABCD-7890"}, "phone", "hanya boleh berisi angka", id="phone-letters"
    ),
    pytest.param({"name": ""}, "name", "Nama wajib diisi", id="name-empty"),
    pytest.param({"name": "   "}, "name", "Nama wajib diisi", id="name-blank"),
    pytest.param({"name": "A" * 10_000}, "name", "paling banyak 200 karakter", id="name-10000"),
    pytest.param({"unit": "999999"}, "unit", "Unit kerja tidak dikenal", id="unit-unknown"),
    pytest.param({"unit": "bappeda"}, "unit", "Unit kerja tidak dikenal", id="unit-not-a-number"),
    pytest.param(
        {"institution": "Pemerintah Kota Bandung"},
        "institution",
        "bukan keduanya",
        id="unit-and-institution",
    ),
    pytest.param(
        {"unit": "other", "institution": ""},
        "institution",
        "tulis namanya",
        id="other-without-name",
    ),
    pytest.param({"unit": ""}, "unit", "Pilih unit kerja", id="no-unit"),
    pytest.param(
        {"employment_status": None}, "employment_status", "Pilih status kepegawaian", id="no-status"
    ),
    pytest.param(
        {"employment_status": "honorer"},
        "employment_status",
        "Pilih status kepegawaian",
        id="unknown-status",
    ),
    pytest.param(
        {"employment_status": "pppk", "nip": "12345"},
        "nip",
        "NI PPPK harus 18 digit",
        id="pppk-short",
    ),
    pytest.param(
        {"employment_status": "non_asn"}, "nip", "Non-ASN tidak memiliki NIP", id="non-asn-with-nip"
    ),
]


@pytest.mark.parametrize(("changes", "field", "message"), INVALID)
def test_each_invalid_field_gets_its_own_message_and_keeps_the_rest(
    app, client, make_event, unit, mails, changes, field, message
):
    event = make_event()
    data = form_data(unit, **changes)
    response = client.post(register_url(event), data=data)
    assert response.status_code == 422
    assert message in field_error(response, field)
    assert error_ids(response) == {field}, "only the wrong field is marked"
    assert 'aria-invalid="true"' in page(response)
    assert "Pendaftaran belum tersimpan" in page(response)
    # Everything typed is still there.
    for name in ("name", "email", "phone", "nip", "position", "institution"):
        assert input_value(response, name) == data.get(name, ""), name
    if data.get("employment_status") in ("pns", "pppk", "non_asn"):
        assert checked_radio(response, "employment_status") == data["employment_status"]
    if data["unit"] in (str(unit.id), "other"):
        assert selected_option(response, "unit") == data["unit"]
    # Nothing stored, nothing sent.
    assert rows(app, event_id=event.id) == []
    assert mails() == []


def test_several_invalid_fields_are_all_marked(app, client, make_event, unit):
    event = make_event()
    response = client.post(
        register_url(event), data=form_data(unit, name="", email="x", phone="abc", nip="123")
    )
    assert response.status_code == 422
    assert error_ids(response) == {"name", "email", "phone", "nip"}


NAMES = [
    "Ni Luh Putu Ayu",
    "Sukarno",
    "Ir. H. Abdul Najib, MM",
    "Nguyễn Thị Minh Khai",
    "O'Neil",
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("name", NAMES)
def test_names_are_kept_and_shown_exactly(app, client, make_event, unit, name):
    event = make_event()
    response = client.post(register_url(event), data=form_data(unit, name=name))
    assert response.status_code == 302
    [reg] = rows(app, event_id=event.id)
    assert reg.name == name
    text = page(client.get(response.headers["Location"]))
    assert str(escape(name)) in text
    assert "<script>alert(1)</script>" not in text


def test_typed_name_is_escaped_when_the_form_comes_back(client, make_event, unit):
    event = make_event()
    response = client.post(
        register_url(event), data=form_data(unit, name='"><script>alert(1)</script>', email="bad")
    )
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in page(response)
    assert input_value(response, "name") == '"><script>alert(1)</script>'


# --- logged in: pre-fill and profile ------------------------------------------------


@pytest.fixture
def profiled_user(make_user, unit):
    return make_user(
        Role.PARTICIPANT,
        email="ayu@example.com",
        name="Ni Luh Putu Ayu, S.E.",
        phone="+6281234567890",
        nip="196804111993031009",
        employment_status="pns",
        position="Analis Keuangan",
        unit_id=unit.id,
    )


def test_logged_in_form_is_prefilled_from_profile(client, login, make_event, unit, profiled_user):
    login(profiled_user)
    response = client.get(register_url(make_event()))
    assert response.status_code == 200
    assert input_value(response, "name") == "Ni Luh Putu Ayu, S.E."
    assert input_value(response, "email") == "ayu@example.com"
    assert input_value(response, "phone") == "+6281234567890"
    assert input_value(response, "nip") == "196804111993031009"
    assert input_value(response, "position") == "Analis Keuangan"
    assert checked_radio(response, "employment_status") == "pns"
    assert selected_option(response, "unit") == str(unit.id)
    assert "Simpan data ini ke profil saya" in page(response)
    assert re.search(
        r'<input[^>]*checked[^>]*id="save_profile"|'
        r'<input[^>]*id="save_profile"[^>]*checked',
        page(response),
    )


def test_prefill_of_an_outside_guest_chooses_other(client, login, make_user, make_event):
    guest = make_user(employment_status="non_asn", institution="Pemerintah Kota Bogor")
    login(guest)
    response = client.get(register_url(make_event()))
    assert selected_option(response, "unit") == "other"
    assert input_value(response, "institution") == "Pemerintah Kota Bogor"


def test_registration_saves_typed_details_to_profile(
    app, client, login, make_event, make_unit, profiled_user
):
    other_unit = make_unit(name="Dinas Komunikasi dan Informatika", short_name="Diskominfo")
    login(profiled_user)
    event = make_event()
    response = client.post(
        register_url(event),
        data=form_data(
            other_unit,
            name="Ni Luh Putu Ayu, S.E., M.Si.",
            email="ayu@example.com",
            phone="+62 813 1111 2222",
            nip="19680411.199303.1.009",
            position="Kepala Seksi",
            save_profile="y",
        ),
    )
    assert response.status_code == 302
    [reg] = rows(app, event_id=event.id)
    assert reg.user_id == profiled_user.id
    user = reload(app, User, profiled_user.id)
    assert (user.name, user.phone, user.nip, user.position, user.unit_id, user.email) == (
        "Ni Luh Putu Ayu, S.E., M.Si.",
        "+6281311112222",
        "196804111993031009",
        "Kepala Seksi",
        other_unit.id,
        "ayu@example.com",
    )


def test_unchecked_save_profile_leaves_profile_alone(
    app, client, login, make_event, unit, profiled_user
):
    login(profiled_user)
    event = make_event()
    response = client.post(
        register_url(event),
        data=form_data(unit, name="Nama Lain", email="ayu@example.com", position="Jabatan Lain"),
    )
    assert response.status_code == 302
    assert rows(app, event_id=event.id)[0].name == "Nama Lain"
    user = reload(app, User, profiled_user.id)
    assert (user.name, user.position) == ("Ni Luh Putu Ayu, S.E.", "Analis Keuangan")


def test_logged_in_user_already_registered_is_pointed_to_the_registration(
    client, login, make_event, unit, register, person, profiled_user
):
    event = make_event()
    reg = register(event, person(unit, email="ayu@example.com")).registration
    login(profiled_user)
    text = page(client.get(register_url(event)))
    assert "Anda sudah terdaftar di kegiatan ini." in text
    assert f"/r/{reg.manage_token}" in text
    # Someone else's page says nothing about it.
    other = make_event()
    assert "Anda sudah terdaftar" not in page(client.get(register_url(other)))


# --- capacity, window, duplicates -----------------------------------------------------


def test_full_event_puts_new_registration_on_waiting_list(
    app, client, make_event, unit, register, person
):
    event = make_event(capacity=1, waitlist=True)
    register(event, person())
    listed = client.get(register_url(event))
    assert "Kuota sudah penuh." in page(listed)
    assert "Bila Anda mendaftar sekarang, Anda masuk daftar tunggu" in page(listed)
    assert 'id="registration-form"' in page(listed)

    response = client.post(register_url(event), data=form_data(unit), follow_redirects=True)
    assert response.status_code == 200
    text = page(response)
    assert "Daftar tunggu nomor 1" in text
    assert "daftar tunggu nomor 1" in text  # the flash message too
    assert 'id="check-in-code"' not in text  # no check-in code while waiting
    assert [r.status for r in rows(app, event_id=event.id)] == ["confirmed", "waitlisted"]


def test_full_event_without_waiting_list_refuses(
    app, client, make_event, unit, register, person, mails
):
    event = make_event(capacity=1, waitlist=False)
    register(event, person())
    sent_before = len(mails())
    listed = client.get(register_url(event))
    assert "Kuota kegiatan sudah penuh." in page(listed)
    assert 'id="registration-form"' not in page(listed)

    response = client.post(register_url(event), data=form_data(unit))
    assert response.status_code == 409
    assert "Kuota kegiatan sudah penuh." in page(response)
    assert len(rows(app, event_id=event.id)) == 1
    assert len(mails()) == sent_before


def test_unit_quota_full_without_waiting_list_refuses(
    app, client, make_event, unit, register, person
):
    event = make_event(capacity=10, unit_quota=1, waitlist=False)
    register(event, person(unit))
    response = client.post(register_url(event), data=form_data(unit))
    assert response.status_code == 409
    assert "Kuota untuk unit kerja Anda sudah penuh" in page(response)
    assert len(rows(app, event_id=event.id)) == 1


CLOSED = [
    pytest.param(
        {"registration_opens_at": FIXED_NOW + timedelta(days=2)},
        "Pendaftaran belum dibuka",
        id="before-opening",
    ),
    pytest.param(
        {
            "registration_opens_at": FIXED_NOW - timedelta(days=5),
            "registration_closes_at": FIXED_NOW - timedelta(hours=1),
        },
        "Pendaftaran sudah ditutup",
        id="after-closing",
    ),
    pytest.param(
        {"status": EventStatus.CANCELLED}, "kegiatan ini sudah dibatalkan", id="event-cancelled"
    ),
]


@pytest.mark.parametrize(("fields", "message"), CLOSED)
def test_closed_registration_shows_why_and_accepts_nothing(
    app, client, make_event, unit, mails, fields, message
):
    event = make_event(**fields)
    response = client.get(register_url(event))
    assert response.status_code == 200
    assert message in page(response)
    assert 'id="registration-form"' not in page(response)
    assert 'id="resend"' in page(response)  # a registered person can still get the link

    response = client.post(register_url(event), data=form_data(unit))
    assert response.status_code == 409
    assert message in page(response)
    assert rows(app, event_id=event.id) == []
    assert mails() == []


def test_draft_event(app, client, login, make_user, make_event, unit):
    owner = make_user(Role.ORGANIZER)
    event = make_event(owner=owner, status=EventStatus.DRAFT)
    assert client.get(register_url(event)).status_code == 404
    assert client.post(register_url(event), data=form_data(unit)).status_code == 404
    login(owner)
    response = client.get(register_url(event))
    assert response.status_code == 200
    assert "belum dibuka untuk pendaftaran" in page(response)
    assert 'id="registration-form"' not in page(response)
    assert client.post(register_url(event), data=form_data(unit)).status_code == 409
    assert rows(app, event_id=event.id) == []


@pytest.mark.parametrize("same", ["email", "nip"])
def test_duplicate_is_refused_and_manage_link_mailed_again(
    app, client, make_event, unit, mails, register, person, same
):
    event = make_event()
    first = register(
        event,
        person(
            unit,
            name="Peserta Pertama",
            email="first@example.com",
            employment_status="pns",
            nip=VALID_NIP,
        ),
    ).registration
    sent_before = len(mails())
    data = form_data(unit, name="Orang Kedua")
    if same == "email":
        data.update(email="FIRST@example.com", nip="19700101 199503 2 001")
    response = client.post(register_url(event), data=data)
    assert response.status_code == 409
    text = page(response)
    assert "Anda sudah terdaftar di kegiatan ini" in text
    assert "dikirim ulang" in text
    # Nothing about the other registration is shown.
    assert "Peserta Pertama" not in text and "first@example.com" not in text
    assert first.manage_token not in text and first.check_in_code not in text
    assert len(rows(app, event_id=event.id)) == 1
    new_mails = mails()[sent_before:]
    assert len(new_mails) == 1
    to, _subject, body = new_mails[0]
    assert to == "first@example.com"
    assert f"/r/{first.manage_token}" in body


# --- manage page and cancelling ---------------------------------------------------------


def test_manage_page_unknown_token_and_check_in_code_are_404(
    client, make_event, unit, register, person
):
    reg = register(make_event(), person(unit)).registration
    assert client.get("/r/not-a-real-token").status_code == 404
    assert client.get(f"/r/{'x' * 200}").status_code == 404
    assert client.get(f"/r/{reg.check_in_code}").status_code == 404
    assert client.get(f"/r/{reg.check_in_code}/cancel").status_code == 404
    assert client.post(f"/r/{reg.check_in_code}/cancel").status_code == 404
    assert client.get(f"/r/{reg.manage_token}").status_code == 200


def test_manage_page_shows_details_and_private_headers(client, make_event, unit, register, person):
    event = make_event()
    reg = register(
        event,
        person(
            unit,
            name="Hertian Silawati",
            employment_status="pns",
            nip=VALID_NIP,
            position="Penyuluh",
        ),
    ).registration
    response = client.get(f"/r/{reg.manage_token}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    text = page(response)
    assert '<meta name="robots" content="noindex' in text
    for shown in (
        "Hertian Silawati",
        reg.email,
        "+6281234567890",
        "196804111993031009",
        "Penyuluh",
        unit.name,
        event.title,
        event.venue,
        "Jumat, 25 Januari 2030",
        reg.check_in_code,
        "Terdaftar",
        "Batalkan pendaftaran",
        f'href="/events/{event.id}"',
    ):
        assert shown in text, shown
    assert 'id="ticket-qr"' in text  # filled by the ticket feature (tests/views/test_tickets.py)
    qr_spot = text.split('id="ticket-qr"')[1].split("</section>")[0]
    assert f'src="/r/{reg.manage_token}/qr.svg"' in qr_spot

    confirm = client.get(f"/r/{reg.manage_token}/cancel")
    assert confirm.headers["Cache-Control"] == "no-store"
    assert confirm.headers["Referrer-Policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex' in page(confirm)


def test_cancel_asks_first_then_cancels_and_promotes_first_waiting(
    app, client, make_event, unit, register, person, mails
):
    event = make_event(capacity=1, waitlist=True)
    first = register(event, person(unit)).registration
    second = register(event, person(unit)).registration
    third = register(event, person(unit)).registration
    assert (second.status, third.status) == ("waitlisted", "waitlisted")
    waiting_page = page(client.get(f"/r/{second.manage_token}"))
    assert "Daftar tunggu nomor 1" in waiting_page
    assert "Daftar tunggu nomor 2" in page(client.get(f"/r/{third.manage_token}"))

    # The confirmation step (no JavaScript needed) changes nothing.
    confirm = client.get(f"/r/{first.manage_token}/cancel")
    assert confirm.status_code == 200
    assert "Batalkan pendaftaran ini?" in page(confirm)
    assert "Ya, batalkan pendaftaran" in page(confirm)
    assert reload(app, Registration, first.id).status == "confirmed"

    response = client.post(f"/r/{first.manage_token}/cancel")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/r/{first.manage_token}"
    shown = page(client.get(response.headers["Location"]))
    assert "Dibatalkan" in shown
    assert "Pendaftaran Anda telah dibatalkan" in shown
    assert "Ya, batalkan pendaftaran" not in shown  # nothing left to cancel
    assert first.check_in_code not in shown

    statuses = {r.id: r.status for r in rows(app, event_id=event.id)}
    assert statuses == {first.id: "cancelled", second.id: "confirmed", third.id: "waitlisted"}
    assert "Daftar tunggu nomor 1" in page(client.get(f"/r/{third.manage_token}"))
    assert any(to == second.email and "mendapat tempat" in subject for to, subject, _ in mails())

    # Cancelling twice changes nothing and does not fail.
    again = client.post(f"/r/{first.manage_token}/cancel")
    assert again.status_code == 302
    assert reload(app, Registration, second.id).status == "confirmed"


def test_no_self_cancel_once_the_event_has_started(app, client, make_event, unit, register, person):
    started = FIXED_NOW - timedelta(hours=1)
    event = make_event(starts_at=started, ends_at=started + timedelta(hours=8))
    reg = register(event, person(unit)).registration
    text = page(client.get(f"/r/{reg.manage_token}"))
    assert "Terdaftar" in text
    assert "Batalkan pendaftaran" not in text
    response = client.post(f"/r/{reg.manage_token}/cancel", follow_redirects=True)
    assert "tidak dapat dibatalkan lagi" in page(response)
    assert reload(app, Registration, reg.id).status == "confirmed"


def test_manage_page_of_a_cancelled_event(client, make_event, unit, register, person, app):
    event = make_event()
    reg = register(event, person(unit)).registration
    with app.app_context():
        from workshop.models import Event

        db.session.get(Event, event.id).status = EventStatus.CANCELLED
        db.session.commit()
    text = page(client.get(f"/r/{reg.manage_token}"))
    assert "Kegiatan ini dibatalkan oleh penyelenggara." in text
    assert "Batalkan pendaftaran" not in text


# --- resend ----------------------------------------------------------------------


def test_resend_answers_the_same_and_mails_only_a_known_address(
    app, client, make_event, unit, register, person, mails
):
    event = make_event()
    reg = register(event, person(unit, email="known@example.com")).registration
    sent_before = len(mails())

    known = client.post(f"/events/{event.id}/resend", data={"resend-email": "Known@Example.com"})
    unknown = client.post(f"/events/{event.id}/resend", data={"resend-email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    known_page = page(client.get(known.headers["Location"]))
    client.post(f"/events/{event.id}/resend", data={"resend-email": "nobody@example.com"})
    unknown_page = page(client.get(unknown.headers["Location"]))
    message = "Jika email tersebut terdaftar, tautan telah dikirim."
    assert message in known_page and message in unknown_page

    new_mails = mails()[sent_before:]
    assert len(new_mails) == 1
    to, _subject, body = new_mails[0]
    assert to == "known@example.com"
    assert f"/r/{reg.manage_token}" in body


def test_resend_with_empty_email_asks_for_it(client, make_event, mails):
    event = make_event()
    response = client.post(f"/events/{event.id}/resend", data={"resend-email": ""})
    assert response.status_code == 422
    assert "Email wajib diisi." in field_error(response, "resend-email")
    assert mails() == []


def test_resend_for_a_draft_event_is_404(client, make_event):
    event = make_event(status=EventStatus.DRAFT)
    response = client.post(f"/events/{event.id}/resend", data={"resend-email": "a@example.com"})
    assert response.status_code == 404


# --- My events ------------------------------------------------------------------


def test_my_events_lists_only_own_registrations(
    client, login, make_user, make_event, unit, register, person
):
    me = make_user(email="saya@example.com")
    other = make_user(email="orang.lain@example.com")
    first = make_event(title="Workshop Inovasi Pelayanan Publik")
    second = make_event(title="Bimtek SINOVIK", capacity=1, waitlist=True)
    third = make_event(title="Rapat Koordinasi Lain")
    mine = register(first, person(unit, email="saya@example.com")).registration
    register(second, person(unit))
    waiting = register(second, person(unit), user=me).registration
    theirs = register(third, person(unit, email="orang.lain@example.com"), user=other).registration

    login(me)
    response = client.get("/my/events")
    assert response.status_code == 200
    text = page(response)
    assert "Workshop Inovasi Pelayanan Publik" in text
    assert "Bimtek SINOVIK" in text
    assert f"/r/{mine.manage_token}" in text
    assert f"/r/{waiting.manage_token}" in text
    assert "Daftar tunggu nomor 1" in text
    assert "Terdaftar" in text
    assert "Rapat Koordinasi Lain" not in text
    assert theirs.manage_token not in text


def test_my_events_empty_state(client, login, make_user):
    login(make_user())
    response = client.get("/my/events")
    assert response.status_code == 200
    assert "Anda belum terdaftar di kegiatan apa pun." in page(response)


def test_nav_link_for_logged_in_users(client, login, make_user):
    assert "Kegiatan Saya" not in page(client.get("/"))
    login(make_user())
    assert 'href="/my/events"' in page(client.get("/"))


# --- permissions: route x who -> status ---------------------------------------------


@pytest.fixture
def actors(make_user):
    owner = make_user(Role.ORGANIZER)
    return {
        "anonymous": None,
        "participant": make_user(Role.PARTICIPANT),
        "staff": make_user(Role.STAFF),
        "other organizer": make_user(Role.ORGANIZER),
        "owner": owner,
        "admin": make_user(Role.ADMIN),
    }


PERMISSIONS = [
    # (route, who, expected status)
    *[
        ("register published", who, 200)
        for who in ("anonymous", "participant", "staff", "other organizer", "owner", "admin")
    ],
    *[
        ("register draft", who, 404)
        for who in ("anonymous", "participant", "staff", "other organizer")
    ],
    *[("register draft", who, 200) for who in ("owner", "admin")],
    ("my events", "anonymous", 302),
    *[
        ("my events", who, 200)
        for who in ("participant", "staff", "other organizer", "owner", "admin")
    ],
]


@pytest.mark.parametrize(("route", "who", "expected"), PERMISSIONS)
def test_permissions(client, login, make_event, actors, route, who, expected):
    owner = actors["owner"]
    urls = {
        "register published": lambda: register_url(make_event(owner=owner)),
        "register draft": lambda: register_url(make_event(owner=owner, status=EventStatus.DRAFT)),
        "my events": lambda: "/my/events",
    }
    url = urls[route]()
    if actors[who] is not None:
        login(actors[who])
    response = client.get(url)
    assert response.status_code == expected
    if expected == 302:
        assert urlsplit(response.headers["Location"]).path == "/auth/login"


# --- CSRF and rate limits ---------------------------------------------------------


def csrf_from(response, name="csrf_token") -> str:
    return re.search(rf'name="{name}" type="hidden" value="([^"]+)"', page(response)).group(1)


class TestCsrf:
    @pytest.fixture
    def app_config(self, tmp_path):
        return mail_config(tmp_path, WTF_CSRF_ENABLED=True)

    def test_register_needs_the_token(self, app, client, make_event, unit):
        event = make_event()
        refused = client.post(register_url(event), data=form_data(unit))
        assert refused.status_code == 400
        assert rows(app, event_id=event.id) == []
        token = csrf_from(client.get(register_url(event)))
        accepted = client.post(register_url(event), data={**form_data(unit), "csrf_token": token})
        assert accepted.status_code == 302
        assert len(rows(app, event_id=event.id)) == 1

    def test_cancel_needs_the_token(self, app, client, make_event, unit, register, person):
        reg = register(make_event(), person(unit)).registration
        refused = client.post(f"/r/{reg.manage_token}/cancel")
        assert refused.status_code == 400
        assert reload(app, Registration, reg.id).status == "confirmed"
        token = csrf_from(client.get(f"/r/{reg.manage_token}/cancel"))
        accepted = client.post(f"/r/{reg.manage_token}/cancel", data={"csrf_token": token})
        assert accepted.status_code == 302
        assert reload(app, Registration, reg.id).status == "cancelled"

    def test_resend_needs_the_token(self, client, make_event, unit, register, person, mails):
        event = make_event()
        register(event, person(unit, email="known@example.com"))
        sent_before = len(mails())
        refused = client.post(
            f"/events/{event.id}/resend", data={"resend-email": "known@example.com"}
        )
        assert refused.status_code == 400
        assert len(mails()) == sent_before
        token = csrf_from(client.get(register_url(event)), "resend-csrf_token")
        accepted = client.post(
            f"/events/{event.id}/resend",
            data={"resend-email": "known@example.com", "resend-csrf_token": token},
        )
        assert accepted.status_code == 302
        assert len(mails()) == sent_before + 1


class TestRateLimits:
    @pytest.fixture
    def app_config(self, tmp_path):
        return mail_config(
            tmp_path,
            RATELIMIT_ENABLED=True,
            REGISTRATION_RATE_LIMIT="2 per minute",
            RESEND_RATE_LIMIT="2 per minute",
        )

    def test_third_registration_post_in_a_minute_is_refused(self, app, client, make_event, unit):
        with app.app_context():
            limiter.reset()
        event = make_event()
        assert client.post(register_url(event), data=form_data(unit, email="")).status_code == 422
        assert client.post(register_url(event), data=form_data(unit)).status_code == 302
        response = client.post(register_url(event), data=form_data(unit, email="b@example.com"))
        assert response.status_code == 429
        assert "Terlalu banyak permintaan" in page(response)
        assert len(rows(app, event_id=event.id)) == 1
        assert client.get(register_url(event)).status_code == 200  # only POST is limited

    def test_third_resend_in_a_minute_is_refused(self, app, client, make_event):
        with app.app_context():
            limiter.reset()
        event = make_event()
        for _ in range(2):
            response = client.post(
                f"/events/{event.id}/resend", data={"resend-email": "a@example.com"}
            )
            assert response.status_code == 302
        response = client.post(f"/events/{event.id}/resend", data={"resend-email": "a@example.com"})
        assert response.status_code == 429
        assert "Terlalu banyak permintaan" in page(response)
