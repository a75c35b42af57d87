"""Organizer pages: permissions, the event form (create, edit, errors), publish and cancel."""

import html
import re
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import pytest

from tests.conftest import wib
from workshop.extensions import db
from workshop.models import Event, EventStatus, Role
from workshop.services.events import AgendaInput, SpeakerInput

# --- helpers ---------------------------------------------------------------


def form_data(**changes) -> dict[str, str]:
    """A valid event form as the browser posts it (two blank rows in each list)."""
    data = {
        "title": "Workshop Inovasi Pelayanan Publik",
        "description": "Baris pertama.\nBaris kedua.",
        "venue": "Ruang Rapat Pangripta (Nusantara), Bappeda Kabupaten Muara Enim",
        "unit_id": "",
        "starts_at": "2030-02-07T08:00",
        "ends_at": "2030-02-08T16:00",
        "days": "",
        "capacity": "80",
        "unit_quota": "3",
        "waitlist": "y",
        "registration_opens_at": "2030-01-10T08:00",
        "registration_closes_at": "2030-02-06T16:00",
        "speakers-0-name": "Elke Rapp",
        "speakers-0-affiliation": "Team Leader, GIZ",
        "speakers-1-name": "",
        "speakers-1-affiliation": "",
        "agenda-0-starts_at": "2030-02-07T08:30",
        "agenda-0-title": "Pembukaan",
        "agenda-0-speaker": "Ibrahim Iliyas",
        "agenda-1-starts_at": "",
        "agenda-1-title": "",
        "agenda-1-speaker": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def page(response) -> str:
    return response.get_data(as_text=True)


def field_error(response, field_id: str) -> str:
    """The text of the error shown next to the field ``field_id`` ('' if none)."""
    match = re.search(rf'id="{field_id}-error"[^>]*>(.*?)</div>', page(response), re.S)
    return html.unescape(match.group(1)).strip() if match else ""


def list_error(response, name: str) -> str:
    match = re.search(rf'id="{name}-errors"[^>]*>(.*?)</div>', page(response), re.S)
    return html.unescape(match.group(1)).strip() if match else ""


def input_value(response, field_id: str) -> str | None:
    tag = re.search(rf'<input[^>]*\bid="{re.escape(field_id)}"[^>]*>', page(response))
    if tag is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else ""


def textarea_value(response, field_id: str) -> str | None:
    match = re.search(
        rf'<textarea[^>]*\bid="{field_id}"[^>]*>(.*?)</textarea>', page(response), re.S
    )
    return html.unescape(match.group(1)).lstrip("\r\n") if match else None


def event_count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(Event.id)))


def stored_event(app, event_id: int) -> Event:
    with app.app_context():
        event = db.session.get(Event, event_id)
        _ = (event.days, event.speakers, event.agenda)
        db.session.expunge_all()
        return event


# --- permissions -----------------------------------------------------------

ROLES = ["anonymous", "participant", "staff", "other_organizer", "owner", "admin"]

# (method, path, data) — {id} is the owner's draft event.
ROUTES = [
    ("GET", "/organizer/events", None),
    ("GET", "/organizer/events/new", None),
    ("POST", "/organizer/events/new", form_data),
    ("GET", "/organizer/events/{id}/edit", None),
    ("POST", "/organizer/events/{id}/edit", form_data),
    ("POST", "/organizer/events/{id}/publish", None),
    ("GET", "/organizer/events/{id}/cancel", None),
    ("POST", "/organizer/events/{id}/cancel", None),
]

SUCCESS = {"GET": 200, "POST": 302}


def expected_status(role: str, method: str, path: str) -> int:
    if role == "anonymous":
        return 302
    if role in ("participant", "staff"):
        return 403
    if role == "other_organizer" and "{id}" in path:
        return 404
    return SUCCESS[method]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "data"), ROUTES)
def test_permission_table(client, login, make_user, make_event, role, method, path, data):
    owner = make_user(Role.ORGANIZER)
    event = make_event(owner=owner, status=EventStatus.DRAFT)
    users = {
        "participant": lambda: make_user(Role.PARTICIPANT),
        "staff": lambda: make_user(Role.STAFF),
        "other_organizer": lambda: make_user(Role.ORGANIZER),
        "owner": lambda: owner,
        "admin": lambda: make_user(Role.ADMIN),
    }
    if role != "anonymous":
        login(users[role]())
    url = path.format(id=event.id)
    body = data() if callable(data) else data
    response = client.open(url, method=method, data=body)
    assert response.status_code == expected_status(role, method, path)
    if role == "anonymous":
        assert urlsplit(response.location).path == "/auth/login"
    elif response.status_code == 302:
        assert urlsplit(response.location).path != "/auth/login"


def test_unknown_event_is_404_even_for_admin(client, login, make_user):
    login(make_user(Role.ADMIN))
    assert client.get("/organizer/events/999999/edit").status_code == 404
    assert client.post("/organizer/events/999999/publish").status_code == 404


# --- the list --------------------------------------------------------------


def test_list_shows_own_events_with_status_badges(client, login, make_user, make_event):
    owner = make_user(Role.ORGANIZER)
    for status, title in [
        (EventStatus.DRAFT, "Acara draf"),
        (EventStatus.PUBLISHED, "Acara terbit"),
        (EventStatus.CANCELLED, "Acara batal"),
        (EventStatus.FINISHED, "Acara selesai"),
    ]:
        make_event(owner=owner, status=status, title=title)
    make_event(title="Milik orang lain")
    login(owner)
    text = page(client.get("/organizer/events"))
    for badge, title in [
        ("Draf", "Acara draf"),
        ("Terbit", "Acara terbit"),
        ("Dibatalkan", "Acara batal"),
        ("Selesai", "Acara selesai"),
    ]:
        item = re.search(rf"<li class=\"list-group-item.*?{title}.*?</li>", text, re.S).group(0)
        assert f">{badge}</span>" in item
    assert "Milik orang lain" not in text
    # Only a draft can be published; a cancelled or finished event cannot be cancelled.
    assert text.count(">Terbitkan</button>") == 1
    assert text.count(">Batalkan</a>") == 2


def test_list_for_admin_shows_every_event_with_its_manager(client, login, make_user, make_event):
    organizer = make_user(Role.ORGANIZER, name="Rini Oktarina, S.STP., M.Si.")
    make_event(owner=organizer, title="Acara Bagian Organisasi")
    login(make_user(Role.ADMIN))
    text = page(client.get("/organizer/events"))
    assert "Acara Bagian Organisasi" in text
    assert "Rini Oktarina, S.STP., M.Si." in text


def test_empty_list_invites_to_create(client, login, make_user):
    login(make_user(Role.ORGANIZER))
    text = page(client.get("/organizer/events"))
    assert "Anda belum memiliki kegiatan." in text
    assert 'href="/organizer/events/new"' in text


# --- create ----------------------------------------------------------------


def test_new_form_renders_every_field(client, login, make_user, make_unit):
    make_unit(name="Badan Perencanaan Pembangunan Daerah", short_name="Bappeda")
    make_unit(name="Unit Lama", short_name="Lama", active=False)
    login(make_user(Role.ORGANIZER))
    response = client.get("/organizer/events/new")
    text = page(response)
    assert response.status_code == 200
    for name in (
        "starts_at",
        "ends_at",
        "registration_opens_at",
        "registration_closes_at",
        "agenda-0-starts_at",
    ):
        assert re.search(rf'<input[^>]*id="{name}"[^>]*type="datetime-local"', text) or re.search(
            rf'<input[^>]*type="datetime-local"[^>]*id="{name}"', text
        ), name
    assert 'id="description"' in text
    assert "<textarea" in text
    assert "Kuota per unit kerja" in text
    assert "Aktifkan daftar tunggu" in text
    assert re.search(
        r'<input[^>]*checked[^>]*id="waitlist"|<input[^>]*id="waitlist"[^>]*checked', text
    )
    assert "Kosongkan bila kegiatan berlangsung setiap hari" in text
    assert "— pilih —" in text
    assert "Badan Perencanaan Pembangunan Daerah" in text
    assert "Unit Lama" not in text
    # Two blank rows per list work without JavaScript; the script adds "Tambah baris".
    assert input_value(response, "speakers-1-name") == ""
    assert input_value(response, "agenda-1-title") == ""
    assert input_value(response, "speakers-2-name") is None
    assert "Tambah baris" in text
    assert "/static/js/event-form.js" in text


def test_create_saves_a_draft_and_redirects_to_it(app, client, login, make_user, make_unit):
    unit = make_unit(name="Bagian Organisasi Setda", short_name="Bag. Organisasi")
    owner = make_user(Role.ORGANIZER)
    login(owner)
    response = client.post("/organizer/events/new", data=form_data(unit_id=str(unit.id)))
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalar(db.select(Event))
        event_id = event.id
        assert event.status == EventStatus.DRAFT
        assert event.owner_id == owner.id
        assert event.unit_id == unit.id
        assert event.title == "Workshop Inovasi Pelayanan Publik"
        assert event.description == "Baris pertama.\nBaris kedua."
        assert event.starts_at == datetime(2030, 2, 7, 1, 0, tzinfo=UTC)  # 08.00 WIB
        assert event.ends_at == datetime(2030, 2, 8, 9, 0, tzinfo=UTC)
        assert event.registration_closes_at == datetime(2030, 2, 6, 9, 0, tzinfo=UTC)
        assert (event.capacity, event.unit_quota, event.waitlist) == (80, 3, True)
        assert event.day_dates == [date(2030, 2, 7), date(2030, 2, 8)]  # empty: every day
        assert [(s.name, s.affiliation) for s in event.speakers] == [
            ("Elke Rapp", "Team Leader, GIZ")
        ]
        assert [(a.starts_at, a.title, a.speaker) for a in event.agenda] == [
            (datetime(2030, 2, 7, 1, 30, tzinfo=UTC), "Pembukaan", "Ibrahim Iliyas")
        ]
    assert urlsplit(response.location).path == f"/events/{event_id}"
    assert "Kegiatan tersimpan" in page(client.get(response.location))


def test_create_with_chosen_days_unchecked_waitlist_and_no_limits(app, client, login, make_user):
    login(make_user(Role.ORGANIZER))
    data = form_data(
        days="2030-02-08",
        capacity="",
        unit_quota="",
        waitlist=None,
        registration_opens_at="",
        registration_closes_at="",
    )
    assert client.post("/organizer/events/new", data=data).status_code == 302
    with app.app_context():
        event = db.session.scalar(db.select(Event))
        assert event.day_dates == [date(2030, 2, 8)]
        assert (event.capacity, event.unit_quota, event.waitlist) == (None, None, False)
        assert event.registration_opens_at is None


def test_days_accept_commas_new_lines_and_day_first_dates(app, client, login, make_user):
    login(make_user(Role.ORGANIZER))
    data = form_data(ends_at="2030-02-09T16:00", days="2030-02-09,\r\n07/02/2030")
    assert client.post("/organizer/events/new", data=data).status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(Event)).day_dates == [date(2030, 2, 7), date(2030, 2, 9)]


def test_removed_and_blank_rows_are_ignored(app, client, login, make_user):
    """Rows deleted by the script leave gaps in the numbering; blank rows are skipped."""
    login(make_user(Role.ORGANIZER))
    data = form_data(
        **{
            "speakers-0-name": "",
            "speakers-0-affiliation": "",
            "speakers-3-name": "Dina Limanto",
            "speakers-3-affiliation": "GIZ",
            "speakers-7-name": "Hertian Silawati",
            "speakers-7-affiliation": "",
        }
    )
    assert client.post("/organizer/events/new", data=data).status_code == 302
    with app.app_context():
        event = db.session.scalar(db.select(Event))
        assert [s.name for s in event.speakers] == ["Dina Limanto", "Hertian Silawati"]


BAD_INPUT = [
    pytest.param(
        {"ends_at": "2030-02-07T07:00"},
        "ends_at",
        "Waktu selesai harus setelah waktu mulai.",
        id="end-before-start",
    ),
    pytest.param(
        {"registration_closes_at": "2030-02-08T17:00"},
        "registration_closes_at",
        "Pendaftaran harus ditutup paling lambat saat kegiatan selesai.",
        id="registration-closes-after-end",
    ),
    pytest.param(
        {"capacity": "0"}, "capacity", "Harus bilangan bulat lebih dari 0.", id="capacity-zero"
    ),
    pytest.param(
        {"capacity": "-4"}, "capacity", "Harus bilangan bulat lebih dari 0.", id="capacity-negative"
    ),
    pytest.param(
        {"capacity": "sepuluh"},
        "capacity",
        "Isi dengan bilangan bulat, misalnya 40.",
        id="capacity-not-a-number",
    ),
    pytest.param(
        {"capacity": "99999999999999"}, "capacity", "Paling banyak 1.000.000.", id="capacity-huge"
    ),
    pytest.param(
        {"title": "x" * 10_000}, "title", "Paling banyak 200 karakter.", id="title-too-long"
    ),
    pytest.param({"title": "   "}, "title", "Wajib diisi.", id="title-blank"),
    pytest.param({"venue": ""}, "venue", "Wajib diisi.", id="venue-blank"),
    pytest.param(
        {"starts_at": "7 Februari 2030 08.00"},
        "starts_at",
        "Tanggal dan jam tidak dikenali. Tulis seperti 2018-03-08T08:00.",
        id="start-wrong-format",
    ),
    pytest.param({"starts_at": ""}, "starts_at", "Wajib diisi.", id="start-missing"),
    pytest.param(
        {"registration_opens_at": "2030-13-01T08:00"},
        "registration_opens_at",
        "Tanggal dan jam tidak dikenali. Tulis seperti 2018-03-08T08:00.",
        id="opens-impossible-month",
    ),
    pytest.param(
        {"starts_at": "0001-01-01T00:00"},
        "starts_at",
        "Tahun harus antara 1900 dan 2999.",
        id="start-year-one",
    ),
    pytest.param(
        {"days": "2030-02-31"},
        "days",
        "Tanggal tidak dikenali: 2030-02-31. Tulis seperti 2018-03-08.",
        id="day-wrong-format",
    ),
    pytest.param(
        {"days": "2030-02-07, 2030-02-10"},
        "days",
        "Hari kegiatan harus di antara tanggal mulai dan selesai.",
        id="day-outside-event",
    ),
    pytest.param(
        {"unit_quota": "81"},
        "unit_quota",
        "Kuota per unit tidak boleh melebihi kapasitas.",
        id="quota-over-capacity",
    ),
    pytest.param({"unit_id": "999999"}, "unit_id", "Unit kerja tidak dikenal.", id="unknown-unit"),
    pytest.param(
        {"agenda-0-starts_at": "", "agenda-0-title": "Pembukaan"},
        "agenda-0-starts_at",
        "Isi waktu mulai acara ini.",
        id="agenda-row-no-time",
    ),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_INPUT)
def test_bad_input_is_shown_next_to_the_field_and_nothing_is_saved(
    app, client, login, make_user, changes, field, message
):
    login(make_user(Role.ORGANIZER))
    before = event_count(app)
    response = client.post("/organizer/events/new", data=form_data(**changes))
    assert response.status_code == 422
    assert field_error(response, field) == message
    assert f'aria-describedby="{field}' in page(response) or f"{field}-error" in page(response)
    assert "Kegiatan belum tersimpan." in page(response)
    assert event_count(app) == before
    # What was typed is still there, the wrong value included.
    typed = {**form_data(), **changes}
    for name in ("title", "venue", "starts_at", "ends_at", "capacity", "days"):
        assert input_value(response, name) == typed[name], name
    assert textarea_value(response, "description") == typed["description"]


@pytest.mark.parametrize(
    ("changes", "name", "message"),
    [
        (
            {"agenda-0-starts_at": "2030-02-09T08:00"},
            "agenda",
            "Waktu acara harus di antara waktu mulai dan selesai kegiatan.",
        ),
        (
            {"agenda-0-title": ""},
            "agenda",
            "Setiap acara perlu judul (paling banyak 300 karakter).",
        ),
        (
            {"speakers-0-name": ""},
            "speakers",
            "Setiap narasumber perlu nama (paling banyak 200 karakter).",
        ),
    ],
)
def test_list_errors_are_shown_above_the_list(
    app, client, login, make_user, changes, name, message
):
    login(make_user(Role.ORGANIZER))
    response = client.post("/organizer/events/new", data=form_data(**changes))
    assert response.status_code == 422
    assert list_error(response, name) == message
    assert event_count(app) == 0
    assert input_value(response, "speakers-0-affiliation") == "Team Leader, GIZ"


def test_form_keeps_every_value_when_several_fields_are_wrong(
    app, client, login, make_user, make_unit
):
    unit = make_unit(name="Dinas Komunikasi dan Informatika", short_name="Diskominfo")
    login(make_user(Role.ORGANIZER))
    data = form_data(
        capacity="banyak",
        ends_at="2030-02-06T08:00",
        waitlist=None,
        unit_id=str(unit.id),
        **{
            "speakers-1-name": "Hertian Silawati",
            "speakers-1-affiliation": "GIZ",
            "agenda-1-starts_at": "2030-02-07T09:00",
            "agenda-1-title": "Sambutan",
        },
    )
    response = client.post("/organizer/events/new", data=data)
    assert response.status_code == 422
    # Parse errors and rule errors appear together, after one submit.
    assert field_error(response, "capacity") == "Isi dengan bilangan bulat, misalnya 40."
    assert field_error(response, "ends_at") == "Waktu selesai harus setelah waktu mulai."
    for key, value in data.items():
        if key not in ("description", "waitlist", "unit_id"):
            assert input_value(response, key) == value, key
    assert re.search(rf'<option selected value="{unit.id}">Dinas Komunikasi', page(response))
    assert not re.search(r'<input[^>]*id="waitlist"[^>]*checked', page(response))
    # Two fresh blank rows follow the filled ones, so more can be added without JavaScript.
    assert input_value(response, "speakers-2-name") == ""
    assert input_value(response, "speakers-3-name") == ""
    assert event_count(app) == 0


def test_markup_is_stored_as_typed_and_shown_escaped(app, client, login, make_user):
    login(make_user(Role.ORGANIZER))
    title = '<script>alert("x")</script> & Co'
    description = "<b>tebal</b>\n<img src=x onerror=alert(1)>"
    response = client.post(
        "/organizer/events/new",
        data=form_data(title=title, description=description, **{"speakers-0-name": "<i>Elke</i>"}),
    )
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalar(db.select(Event))
        assert (event.title, event.description) == (title, description)
        assert event.speakers[0].name == "<i>Elke</i>"
    for url in (response.location, "/organizer/events", f"/organizer/events/{event.id}/edit"):
        text = page(client.get(url))
        assert "<script>alert" not in text
        assert "<img src=x" not in text
        assert "<i>Elke</i>" not in text
        assert "&lt;script&gt;alert(" in text
    detail = page(client.get(response.location))
    assert "&lt;b&gt;tebal&lt;/b&gt;\n&lt;img src=x onerror=alert(1)&gt;" in detail
    assert "&lt;i&gt;Elke&lt;/i&gt;" in detail
    # The same text, refused by a rule, comes back escaped in the form.
    refused = client.post("/organizer/events/new", data=form_data(title=title, capacity="0"))
    assert "<script>alert" not in page(refused)
    assert input_value(refused, "title") == title


# --- edit ------------------------------------------------------------------


def test_edit_form_shows_current_values_in_wib(client, login, make_user, make_event):
    owner = make_user(Role.ORGANIZER)
    event = make_event(
        owner=owner,
        title="Bimtek SINOVIK",
        starts_at=wib(2030, 2, 7, 8, 0),
        ends_at=wib(2030, 2, 7, 16, 0),
        speakers=[SpeakerInput("Dina Limanto", "GIZ")],
        agenda=[AgendaInput(wib(2030, 2, 7, 8, 30), "Pembukaan", "")],
    )
    login(owner)
    response = client.get(f"/organizer/events/{event.id}/edit")
    assert response.status_code == 200
    assert input_value(response, "title") == "Bimtek SINOVIK"
    assert input_value(response, "starts_at") == "2030-02-07T08:00"
    assert input_value(response, "ends_at") == "2030-02-07T16:00"
    assert input_value(response, "days") == ""  # every day: left empty
    assert input_value(response, "speakers-0-name") == "Dina Limanto"
    assert input_value(response, "agenda-0-starts_at") == "2030-02-07T08:30"
    assert input_value(response, "speakers-1-name") == ""
    assert input_value(response, "speakers-2-name") == ""
    assert input_value(response, "speakers-3-name") is None


def test_edit_saves_changes_and_keeps_the_status(app, client, login, make_user, make_event):
    owner = make_user(Role.ORGANIZER)
    event = make_event(owner=owner, status=EventStatus.PUBLISHED)
    login(owner)
    data = form_data(
        title="Judul baru",
        ends_at="2030-02-09T16:00",
        days="2030-02-07\n2030-02-09",
        capacity="",
        **{"speakers-0-name": "Hertian Silawati", "speakers-0-affiliation": ""},
    )
    response = client.post(f"/organizer/events/{event.id}/edit", data=data)
    assert response.status_code == 302
    assert urlsplit(response.location).path == f"/events/{event.id}"
    saved = stored_event(app, event.id)
    assert saved.title == "Judul baru"
    assert saved.status == EventStatus.PUBLISHED
    assert saved.capacity is None
    assert saved.day_dates == [date(2030, 2, 7), date(2030, 2, 9)]
    assert [s.name for s in saved.speakers] == ["Hertian Silawati"]
    assert "Kegiatan tersimpan." in page(client.get(response.location))
    # The chosen days show in the form for the next edit.
    assert (
        input_value(client.get(f"/organizer/events/{event.id}/edit"), "days")
        == "2030-02-07, 2030-02-09"
    )


def test_refused_edit_changes_nothing(app, client, login, make_user, make_event):
    owner = make_user(Role.ORGANIZER)
    event = make_event(owner=owner, title="Judul lama", capacity=50)
    login(owner)
    response = client.post(
        f"/organizer/events/{event.id}/edit", data=form_data(title="Judul baru", capacity="0")
    )
    assert response.status_code == 422
    assert input_value(response, "title") == "Judul baru"
    saved = stored_event(app, event.id)
    assert (saved.title, saved.capacity) == ("Judul lama", 50)
    assert [s.name for s in saved.speakers] == ["Elke Rapp"]


def test_event_whose_unit_was_deactivated_keeps_it_but_cannot_switch_to_another_inactive(
    app, client, login, make_user, make_event, make_unit
):
    unit = make_unit(name="Dinas Lama")
    other_inactive = make_unit(name="Dinas Tutup", active=False)
    owner = make_user(Role.ORGANIZER)
    event = make_event(owner=owner, unit_id=unit.id)
    with app.app_context():
        db.session.get(type(unit), unit.id).active = False
        db.session.commit()
    login(owner)
    response = client.get(f"/organizer/events/{event.id}/edit")
    assert response.status_code == 200
    assert "Kegiatan belum tersimpan." not in page(response)  # nothing is checked on GET
    assert re.search(rf'<option selected value="{unit.id}">Dinas Lama \(nonaktif\)', page(response))
    kept = client.post(
        f"/organizer/events/{event.id}/edit",
        data=form_data(unit_id=str(unit.id), title="Judul diperbarui"),
    )
    assert kept.status_code == 302
    assert stored_event(app, event.id).title == "Judul diperbarui"
    refused = client.post(
        f"/organizer/events/{event.id}/edit", data=form_data(unit_id=str(other_inactive.id))
    )
    assert refused.status_code == 422
    assert stored_event(app, event.id).unit_id == unit.id


def test_admin_can_edit_someone_elses_event(app, client, login, make_user, make_event):
    event = make_event()
    login(make_user(Role.ADMIN))
    response = client.post(f"/organizer/events/{event.id}/edit", data=form_data(title="Oleh admin"))
    assert response.status_code == 302
    saved = stored_event(app, event.id)
    assert saved.title == "Oleh admin"
    assert saved.owner_id == event.owner_id


# --- publish and cancel ----------------------------------------------------


def test_publish_makes_a_draft_public(app, client, login, make_user, make_event):
    owner = make_user(Role.ORGANIZER)
    event = make_event(owner=owner, status=EventStatus.DRAFT, title="Acara baru")
    assert "Acara baru" not in page(client.get("/"))
    login(owner)
    response = client.post(f"/organizer/events/{event.id}/publish")
    assert urlsplit(response.location).path == f"/events/{event.id}"
    assert stored_event(app, event.id).status == EventStatus.PUBLISHED
    assert "Kegiatan diterbitkan" in page(client.get(response.location))
    assert "Acara baru" in page(client.get("/"))


def test_publish_from_the_list_returns_to_the_list(app, client, login, make_user, make_event):
    owner = make_user(Role.ORGANIZER)
    event = make_event(owner=owner, status=EventStatus.DRAFT)
    login(owner)
    response = client.post(f"/organizer/events/{event.id}/publish", data={"back": "list"})
    assert urlsplit(response.location).path == "/organizer/events"


@pytest.mark.parametrize(
    "status", [EventStatus.PUBLISHED, EventStatus.CANCELLED, EventStatus.FINISHED]
)
def test_publish_refuses_anything_but_a_draft(app, client, login, make_user, make_event, status):
    owner = make_user(Role.ORGANIZER)
    event = make_event(owner=owner, status=status)
    login(owner)
    response = client.post(f"/organizer/events/{event.id}/publish", follow_redirects=True)
    assert "Hanya draf yang dapat diterbitkan." in page(response)
    assert "alert-danger" in page(response)
    assert stored_event(app, event.id).status == status


def test_cancel_asks_for_confirmation_first(app, client, login, make_user, make_event):
    owner = make_user(Role.ORGANIZER)
    event = make_event(owner=owner, title="Sosialisasi KIPP")
    login(owner)
    confirm = client.get(f"/organizer/events/{event.id}/cancel")
    assert confirm.status_code == 200
    assert "Batalkan kegiatan ini?" in page(confirm)
    assert "Sosialisasi KIPP" in page(confirm)
    assert re.search(r'<form method="post"[^>]*>.*Ya, batalkan kegiatan', page(confirm), re.S)
    assert stored_event(app, event.id).status == EventStatus.PUBLISHED  # GET changes nothing

    response = client.post(f"/organizer/events/{event.id}/cancel")
    assert urlsplit(response.location).path == f"/events/{event.id}"
    assert stored_event(app, event.id).status == EventStatus.CANCELLED
    detail = page(client.get(response.location))
    assert "Kegiatan dibatalkan." in detail
    assert "Kegiatan ini dibatalkan." in detail


@pytest.mark.parametrize("status", [EventStatus.CANCELLED, EventStatus.FINISHED])
def test_cancel_refuses_cancelled_and_finished(app, client, login, make_user, make_event, status):
    owner = make_user(Role.ORGANIZER)
    event = make_event(owner=owner, status=status)
    login(owner)
    assert "tidak dapat dibatalkan" in page(client.get(f"/organizer/events/{event.id}/cancel"))
    response = client.post(f"/organizer/events/{event.id}/cancel", follow_redirects=True)
    assert "Kegiatan ini tidak dapat dibatalkan." in page(response)
    assert stored_event(app, event.id).status == status


class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def csrf_token(self, client, url) -> str:
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page(client.get(url)))[1]

    def test_changes_need_the_csrf_token(self, app, client, make_user, make_event):
        owner = make_user(Role.ORGANIZER)
        event = make_event(owner=owner, status=EventStatus.DRAFT)
        token = self.csrf_token(client, "/auth/login")
        client.post(
            "/auth/login",
            data={"email": owner.email, "password": "rahasia-123", "csrf_token": token},
        )
        for url in (
            f"/organizer/events/{event.id}/publish",
            f"/organizer/events/{event.id}/cancel",
            f"/organizer/events/{event.id}/edit",
            "/organizer/events/new",
        ):
            assert client.post(url, data=form_data()).status_code == 400, url
        assert stored_event(app, event.id).status == EventStatus.DRAFT
        assert event_count(app) == 1

        token = self.csrf_token(client, f"/events/{event.id}")
        response = client.post(f"/organizer/events/{event.id}/publish", data={"csrf_token": token})
        assert response.status_code == 302
        assert stored_event(app, event.id).status == EventStatus.PUBLISHED


def test_raising_capacity_promotes_waiting_registrations(
    app, client, login, make_user, make_event, person, register
):
    import sqlalchemy as sa

    from workshop.extensions import db
    from workshop.models import Registration

    owner = make_user(Role.ORGANIZER)
    event = make_event(
        owner=owner, capacity=1, starts_at=wib(2030, 2, 7, 8), ends_at=wib(2030, 2, 8, 16)
    )
    for _ in range(3):
        register(event, person())
    login(owner)
    payload = form_data(
        capacity="3", unit_quota="", registration_opens_at="", registration_closes_at=""
    )
    response = client.post(f"/organizer/events/{event.id}/edit", data=payload)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        statuses = db.session.scalars(sa.select(Registration.status)).all()
    assert sorted(statuses) == ["confirmed", "confirmed", "confirmed"]


def test_inactive_unit_can_be_kept_on_edit(app, make_user, make_unit, make_event):
    from workshop.extensions import db
    from workshop.models import Event, Unit
    from workshop.services import events

    owner = make_user(Role.ORGANIZER)
    unit = make_unit()
    event = make_event(owner=owner, unit_id=unit.id)
    with app.app_context():
        db.session.get(Unit, unit.id).active = False
        db.session.commit()
        ev = db.session.get(Event, event.id)
        data = events.input_from_event(ev)
        data.title = "Judul baru"
        events.update_event(ev, data, db.session.merge(owner))
        db.session.commit()
        assert db.session.get(Event, event.id).title == "Judul baru"
