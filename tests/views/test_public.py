"""Public pages: the event list on the home page and the event detail page."""

import re
from datetime import timedelta

import pytest

from tests.conftest import FIXED_NOW, wib
from workshop.models import EventStatus, Role
from workshop.services.events import AgendaInput, SpeakerInput


def page(response) -> str:
    return response.get_data(as_text=True)


def section(text: str, heading_id: str) -> str:
    match = re.search(rf'<section aria-labelledby="{heading_id}".*?</section>', text, re.S)
    return match.group(0) if match else ""


def card(text: str, title: str) -> str:
    """The event card whose title link reads ``title``."""
    for match in re.finditer(r'<article class="card.*?</article>', text, re.S):
        if f">{title}</a>" in match.group(0):
            return match.group(0)
    raise AssertionError(f"no card for {title!r}")


@pytest.fixture
def reference_event(make_event, make_unit):
    """The two-day reference workshop of 8–9 March 2018, with speakers and agenda."""
    unit = make_unit(name="Bagian Organisasi Setda", short_name="Bag. Organisasi")
    return make_event(
        title="Workshop Inovasi Pelayanan Publik",
        venue="Ruang Rapat Pangripta (Nusantara), Bappeda Kabupaten Muara Enim",
        description="Baris pertama.\nBaris <b>kedua</b>.",
        starts_at=wib(2018, 3, 8, 8, 0),
        ends_at=wib(2018, 3, 9, 16, 0),
        capacity=80,
        unit_quota=3,
        registration_opens_at=wib(2018, 2, 26, 8, 0),
        registration_closes_at=wib(2018, 3, 7, 16, 0),
        unit_id=unit.id,
        speakers=[
            SpeakerInput("Elke Rapp", "Team Leader, GIZ"),
            SpeakerInput("Hertian Silawati", "GIZ"),
        ],
        agenda=[
            AgendaInput(
                wib(2018, 3, 9, 8, 30), "Klinik proposal inovasi per SKPD", "Hertian Silawati"
            ),
            AgendaInput(wib(2018, 3, 8, 8, 30), "Pembukaan", "Ibrahim Iliyas"),
            AgendaInput(wib(2018, 3, 8, 8, 0), "Registrasi peserta"),
        ],
    )


# --- home page ---------------------------------------------------------------


def test_home_lists_upcoming_soonest_first_then_past(client, login, make_event, make_user):
    now = FIXED_NOW
    make_event(title="Bulan depan", starts_at=now + timedelta(days=30))
    make_event(title="Minggu depan", starts_at=now + timedelta(days=7))
    make_event(title="Sedang jalan", starts_at=now - timedelta(hours=1))
    make_event(title="Tahun lalu", starts_at=now - timedelta(days=365))
    make_event(title="Bulan lalu", starts_at=now - timedelta(days=30), status=EventStatus.FINISHED)
    owner = make_user(Role.ORGANIZER)
    make_event(title="Draf sendiri", owner=owner, status=EventStatus.DRAFT)
    make_event(title="Draf orang lain", status=EventStatus.DRAFT)

    response = client.get("/")
    text = page(response)
    assert response.status_code == 200
    assert "<h1" in text and ">Kegiatan</h1>" in text
    titles = re.findall(r'class="stretched-link">([^<]+)</a>', text)
    assert titles == ["Sedang jalan", "Minggu depan", "Bulan depan", "Bulan lalu", "Tahun lalu"]
    upcoming, past = section(text, "upcoming-heading"), section(text, "past-heading")
    assert "Minggu depan" in upcoming and "Bulan lalu" not in upcoming
    assert "Tahun lalu" in past
    assert "Sedang berlangsung" in card(text, "Sedang jalan")
    assert "Akan datang" in card(text, "Minggu depan")
    assert "Selesai" in card(text, "Bulan lalu")

    # A draft stays hidden from the list even for the organizer who owns it.
    login(owner)
    assert "Draf sendiri" not in page(client.get("/"))
    assert "Draf orang lain" not in page(client.get("/"))


def test_home_hides_cancelled_events(client, make_event):
    make_event(title="Acara batal", status=EventStatus.CANCELLED)
    assert "Acara batal" not in page(client.get("/"))


def test_card_shows_dates_in_indonesian_wib_venue_and_unit(client, reference_event):
    text = card(page(client.get("/")), "Workshop Inovasi Pelayanan Publik")
    assert "Kamis, 8 Maret 2018 – Jumat, 9 Maret 2018" in text
    assert "08.00 WIB" in text
    assert "16.00 WIB" in text
    assert "Ruang Rapat Pangripta (Nusantara), Bappeda Kabupaten Muara Enim" in text
    assert "Bagian Organisasi Setda" in text
    assert f'href="/events/{reference_event.id}"' in text


def test_one_day_event_prints_a_single_date(client, make_event):
    make_event(title="Satu hari", starts_at=wib(2018, 3, 8, 8, 0), ends_at=wib(2018, 3, 8, 12, 0))
    text = card(page(client.get("/")), "Satu hari")
    assert "Kamis, 8 Maret 2018" in text
    assert "Maret 2018 –" not in text
    assert "08.00 WIB – 12.00 WIB" in text


def test_home_empty_state(client, make_event):
    make_event(status=EventStatus.DRAFT)
    text = page(client.get("/"))
    assert "Belum ada kegiatan yang diterbitkan." in text
    assert "<article" not in text


def test_home_in_english(client, reference_event):
    client.post("/auth/language", data={"lang": "en", "next": "/"})
    text = card(page(client.get("/")), "Workshop Inovasi Pelayanan Publik")
    assert "Thursday, 8 March 2018 – Friday, 9 March 2018" in text
    assert "08:00 WIB" in text


# --- event detail -------------------------------------------------------------


def test_detail_shows_every_fact(client, reference_event):
    response = client.get(f"/events/{reference_event.id}")
    text = page(response)
    assert response.status_code == 200
    assert "Workshop Inovasi Pelayanan Publik</h1>" in text
    assert "Selesai" in text  # 2018 is past for FIXED_NOW
    days = re.search(r"Hari kegiatan</dt>\s*<dd>(.*?)</dd>", text, re.S).group(1)
    assert re.findall(r"<li>([^<]+)</li>", days) == ["Kamis, 8 Maret 2018", "Jumat, 9 Maret 2018"]

    def fact(name):
        return re.search(rf"<dt>{name}</dt>\s*<dd>(.*?)</dd>", text, re.S).group(1).strip()

    assert fact("Mulai") == "Kamis, 8 Maret 2018, 08.00 WIB"
    assert fact("Selesai") == "Jumat, 9 Maret 2018, 16.00 WIB"
    assert fact("Tempat") == "Ruang Rapat Pangripta (Nusantara), Bappeda Kabupaten Muara Enim"
    assert fact("Penyelenggara") == "Bagian Organisasi Setda"
    assert fact("Kapasitas") == "80 peserta"
    assert fact("Kuota per unit kerja") == "3 peserta per unit kerja"
    assert fact("Pendaftaran dibuka") == "Senin, 26 Februari 2018, 08.00 WIB"
    assert fact("Pendaftaran ditutup") == "Rabu, 7 Maret 2018, 16.00 WIB"
    # Description: escaped, new lines kept by CSS.
    description = re.search(r'<div class="text-prewrap[^"]*">(.*?)</div>', text, re.S).group(1)
    assert description == "Baris pertama.\nBaris &lt;b&gt;kedua&lt;/b&gt;."


def test_detail_lists_speakers_and_agenda_grouped_per_day(client, reference_event):
    text = page(client.get(f"/events/{reference_event.id}"))
    speakers = re.search(r'id="speakers-heading".*?</section>', text, re.S).group(0)
    assert "Narasumber" in speakers
    assert speakers.index("Elke Rapp") < speakers.index("Hertian Silawati")
    assert "Team Leader, GIZ" in speakers

    agenda = re.search(r'id="agenda-heading".*?</section>', text, re.S).group(0)
    assert "Jadwal / Susunan Acara" in agenda
    day_headings = re.findall(r"<h3[^>]*>([^<]+)</h3>", agenda)
    assert day_headings == ["Kamis, 8 Maret 2018", "Jumat, 9 Maret 2018"]
    first_day, second_day = agenda.split("Jumat, 9 Maret 2018</h3>")
    assert first_day.index("Registrasi peserta") < first_day.index("Pembukaan")
    assert "08.00 WIB" in first_day and "08.30 WIB" in first_day
    assert "Ibrahim Iliyas" in first_day
    assert "Klinik proposal inovasi per SKPD" in second_day
    assert "Klinik proposal" not in first_day


def test_detail_omits_empty_optional_facts(client, make_event):
    event = make_event(speakers=[], description="")
    text = page(client.get(f"/events/{event.id}"))
    assert "Kapasitas" not in text
    assert "Kuota per unit kerja" not in text
    assert "Narasumber" not in text
    assert "Jadwal / Susunan Acara" not in text


def test_cancelled_event_is_public_with_a_clear_alert(client, make_event):
    event = make_event(status=EventStatus.CANCELLED)
    response = client.get(f"/events/{event.id}")
    assert response.status_code == 200
    assert re.search(
        r'class="alert alert-danger" role="alert">\s*<strong>Kegiatan ini dibatalkan.',
        page(response),
    )
    assert ">Dibatalkan</span>" in page(response)


def test_unknown_event_is_404(client):
    assert client.get("/events/424242").status_code == 404


@pytest.mark.parametrize(
    ("role", "draft_status", "toolbar"),
    [
        ("anonymous", 404, False),
        ("participant", 404, False),
        ("staff", 404, False),
        ("other_organizer", 404, False),
        ("owner", 200, True),
        ("admin", 200, True),
    ],
)
def test_detail_visibility_and_manager_toolbar(
    client, login, make_user, make_event, role, draft_status, toolbar
):
    owner = make_user(Role.ORGANIZER)
    draft = make_event(owner=owner, status=EventStatus.DRAFT, title="Draf rahasia")
    published = make_event(owner=owner, status=EventStatus.PUBLISHED)
    users = {
        "participant": Role.PARTICIPANT,
        "staff": Role.STAFF,
        "other_organizer": Role.ORGANIZER,
        "admin": Role.ADMIN,
    }
    if role == "owner":
        login(owner)
    elif role != "anonymous":
        login(make_user(users[role]))

    response = client.get(f"/events/{draft.id}")
    assert response.status_code == draft_status
    assert ("Draf rahasia" in page(response)) == toolbar
    if draft_status == 200:
        assert "belum diterbitkan" in page(response)
        assert f'action="/organizer/events/{draft.id}/publish"' in page(response)

    text = page(client.get(f"/events/{published.id}"))
    assert ("Pengelolaan kegiatan" in text) == toolbar
    assert (f'href="/organizer/events/{published.id}/edit"' in text) == toolbar
    assert (f'action="/organizer/events/{published.id}/cancel"' in text) == toolbar
    assert f'action="/organizer/events/{published.id}/publish"' not in text


def test_detail_in_english(client, reference_event):
    client.post("/auth/language", data={"lang": "en", "next": "/"})
    text = page(client.get(f"/events/{reference_event.id}"))
    assert "Thursday, 8 March 2018" in text
    assert "Friday, 9 March 2018, 16:00 WIB" in text


def test_detail_offers_registration_while_open(client, make_event):
    from datetime import timedelta

    from tests.conftest import FIXED_NOW

    open_event = make_event(capacity=40)
    html = client.get(f"/events/{open_event.id}").get_data(as_text=True)
    assert f'href="/events/{open_event.id}/register"' in html
    assert "Sisa kuota: 40 tempat" in html

    closed = make_event(registration_closes_at=FIXED_NOW - timedelta(hours=1))
    html = client.get(f"/events/{closed.id}").get_data(as_text=True)
    assert f'href="/events/{closed.id}/register"' not in html
    assert "Pendaftaran sudah ditutup." in html
