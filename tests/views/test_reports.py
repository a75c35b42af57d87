"""Reports through the pages: the dashboard, daftar hadir PDF, XLSX and CSV agree on the
same numbers; permissions; calendar files; JP recaps; the per-unit report and its API;
and a query count that does not grow with the registrations."""

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.conftest import FIXED_NOW
from workshop.extensions import db
from workshop.models import (
    AuditLog,
    Certificate,
    Checkin,
    CheckinMethod,
    Event,
    EventDay,
    EventStaff,
    EventStatus,
    Registration,
    Role,
    Unit,
    User,
)
from workshop.timeutil import WIB

START = datetime(2030, 1, 8, 8, 0, tzinfo=WIB)  # Tuesday to Thursday, before FIXED_NOW
DAYS = [date(2030, 1, 8), date(2030, 1, 9), date(2030, 1, 10)]

# key: (name, unit key or None for an outside institution, role)
PEOPLE = {
    "siti": ("Siti O'Brien, S.E.", "bappeda", "participant"),
    "kiki": ('Ahmad "Kiki" Rizki', "bappeda", "participant"),
    "formula": ('=HYPERLINK("http://evil.example","klik")', "kominfo", "participant"),
    "plus": ("+62 Budi Santoso", "kominfo", "participant"),
    "viet": ("Nguyễn Thị Minh Khai", "kominfo", "participant"),
    "cyr": ("Дмитрий Шостакович", None, "participant"),
    "insp": ("Eko Prasetyo, S.H.", "inspektorat", "participant"),
    "minus": ("-Minus Awal", None, "participant"),
    "at": ("@Alias Nama", "bappeda", "participant"),
    "zan": ("Żaneta Ćwiek", None, "participant"),
    # capacity 10 is full now: these three wait
    "wati": ("Wati Antre", "bappeda", "participant"),
    "tono": ("Tono Antre", None, "participant"),
    "rina": ("Rina Batal", "kominfo", "participant"),
    # speakers take no seat
    "elke": ("Elke Rapp", None, "speaker"),
}
# Check-ins per day (WIB times). Never: insp, tono (waiting), minus and rina (cancelled).
CHECKINS = [
    {
        "siti": "07:41",
        "kiki": "07:44",
        "at": "07:45",
        "formula": "07:52",
        "plus": "07:58",
        "viet": "08:03",
        "cyr": "08:04",
        "elke": "08:10",
        "zan": "08:31",
    },
    {"siti": "07:50", "formula": "07:55", "viet": "08:00", "cyr": "08:20", "wati": "08:21"},
    {"siti": "07:35", "kiki": "07:36", "plus": "09:02"},
]

# Check-ins of the first day per 5 minutes (WIB), every bin from the first to the last.
FIRST_DAY_ARRIVALS = {
    "07:40": 2,
    "07:45": 1,
    "07:50": 1,
    "07:55": 1,
    "08:00": 2,
    "08:05": 0,
    "08:10": 1,
    "08:15": 0,
    "08:20": 0,
    "08:25": 0,
    "08:30": 1,
}

# What every output must say.
EXPECTED = {
    "counts": {"confirmed": 11, "waitlisted": 1, "cancelled": 2},
    "per_day": [9, 5, 3],
    "attended": 10,
    # unit key: (registered, attended, per day)
    "units": {
        "bappeda": (4, 4, [3, 2, 2]),
        "kominfo": (3, 3, [3, 2, 1]),
        "inspektorat": (1, 0, [0, 0, 0]),
        None: (3, 3, [3, 1, 0]),
    },
    "without_registrations": ["Dinas Kesehatan"],
    "without_attendance": ["inspektorat"],
    "statuses": {
        "siti": "confirmed",
        "wati": "confirmed",
        "tono": "waitlisted",
        "minus": "cancelled",
        "rina": "cancelled",
    },
}


@dataclass
class Scenario:
    event: Event
    users: dict
    units: dict  # key -> Unit
    regs: dict  # key -> registration id


@pytest.fixture
def scenario(app, make_user, make_unit, make_event, person, register):
    users = {
        "anonymous": None,
        "participant": make_user(Role.PARTICIPANT),
        "staff": make_user(Role.STAFF),
        "assigned_staff": make_user(Role.STAFF),
        "owner": make_user(
            Role.ORGANIZER,
            name="Ahmad Fauzi, S.Sos.",
            position="Kepala Bagian Organisasi",
            nip="196804111993031009",
            employment_status="pns",
        ),
        "other_organizer": make_user(Role.ORGANIZER),
        "admin": make_user(Role.ADMIN),
    }
    units = {
        "bappeda": make_unit(name="Badan Perencanaan Pembangunan Daerah", short_name="Bappeda"),
        "kominfo": make_unit(name="Dinas Komunikasi dan Informatika", short_name="Diskominfo"),
        "inspektorat": make_unit(name="Inspektorat Daerah", short_name="Inspektorat"),
        "dinkes": make_unit(name="Dinas Kesehatan", short_name="Dinkes"),
        "old": make_unit(name="Dinas Lama", short_name="Lama", active=False),
    }
    event = make_event(
        owner=users["owner"],
        starts_at=START,
        ends_at=START + timedelta(days=2, hours=8),
        capacity=10,
        title="Workshop <Inovasi> & Pelayanan",
    )
    regs = {}
    for key, (name, unit_key, role) in PEOPLE.items():
        data = person(
            name=name,
            unit=units[unit_key] if unit_key else None,
            role=role,
            email=f"{key}@example.com",
        )
        regs[key] = register(event, data, send_mail=False).registration.id
    with app.app_context():
        # As if minus cancelled (wati moved up from the waiting list) and rina withdrew;
        # set directly: the cancellation rules are tested elsewhere, and their mail is slow.
        for key, status in (("minus", "cancelled"), ("wati", "confirmed"), ("rina", "cancelled")):
            db.session.get(Registration, regs[key]).status = status
        days = {
            d.date: d.id
            for d in db.session.scalars(sa.select(EventDay).where(EventDay.event_id == event.id))
        }
        for day, checkins in zip(DAYS, CHECKINS, strict=True):
            for key, hhmm in checkins.items():
                hour, minute = map(int, hhmm.split(":"))
                db.session.add(
                    Checkin(
                        registration_id=regs[key],
                        event_day_id=days[day],
                        event_id=event.id,
                        method=CheckinMethod.CAMERA,
                        checked_in_at=datetime(
                            day.year, day.month, day.day, hour, minute, tzinfo=WIB
                        ),
                    )
                )
        db.session.add(EventStaff(event_id=event.id, user_id=users["assigned_staff"].id))
        db.session.commit()
    return Scenario(event, users, units, regs)


def unit_key(scenario, unit_id):
    return next((k for k, u in scenario.units.items() if u.id == unit_id), None)


def shown(name: str) -> str:
    """How a spreadsheet must show a name: text that looks like a formula is neutralised."""
    return "'" + name if name[:1] in "=+-@" else name


def pdf_text(data: bytes) -> tuple[list[str], str]:
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    return pages, "\n".join(pages)


# --- one data set, every output ---------------------------------------------------------


def test_dashboard_pdf_xlsx_and_csv_agree(app, client, login, scenario):
    login(scenario.users["owner"])
    event_id = scenario.event.id
    names = {k: v[0] for k, v in PEOPLE.items()}

    # The dashboard's JSON (what the page refreshes itself from) ...
    data = client.get(f"/organizer/events/{event_id}/dashboard.json").get_json()
    assert {k: data["counts"][k] for k in EXPECTED["counts"]} == EXPECTED["counts"]
    assert [d["checked_in"] for d in data["days"]] == EXPECTED["per_day"]
    assert [d["date"] for d in data["days"]] == [d.isoformat() for d in DAYS]
    assert data["attended"] == EXPECTED["attended"]
    units = {
        unit_key(scenario, u["unit_id"]): (u["registered"], u["attended"], u["days"])
        for u in data["units"]
    }
    assert units == EXPECTED["units"]
    assert [u["name"] for u in data["units_without_registrations"]] == EXPECTED[
        "without_registrations"
    ]
    assert [unit_key(scenario, i) for i in data["units_without_attendance"]] == EXPECTED[
        "without_attendance"
    ]
    arrivals = {a["at"][11:16]: a["checked_in"] for a in data["days"][0]["arrivals"]}
    assert arrivals == FIRST_DAY_ARRIVALS
    assert "<svg" in data["fragments"]["arrivals"]

    # ... and the page itself.
    html = client.get(f"/organizer/events/{event_id}/dashboard").get_data(as_text=True)
    for key, n in EXPECTED["counts"].items():
        assert f'data-count="{key}">{n}<' in html
    assert f'data-count="attended">{EXPECTED["attended"]}<' in html
    checked = re.findall(r'<td class="text-end fw-semibold" data-checked-in>(\d+)</td>', html)
    assert [int(n) for n in checked] == EXPECTED["per_day"]
    assert "Workshop &lt;Inovasi&gt; &amp; Pelayanan" in html
    idle = re.search(r'data-list="without-registrations">(.*?)</ul>', html, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", idle) == EXPECTED["without_registrations"]
    silent = re.search(r'data-list="without-attendance">(.*?)</ul>', html, re.S).group(1)
    assert "Inspektorat Daerah" in silent and "Bappeda" not in silent

    # The daftar hadir of each day: everyone checked in that day, exactly once, with time.
    for index, day in enumerate(DAYS):
        response = client.get(f"/organizer/events/{event_id}/attendance.pdf?day={day}")
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        pages, text = pdf_text(response.data)
        assert "DAFTAR HADIR PESERTA" in text
        assert "Workshop <Inovasi> & Pelayanan" in text
        assert f"Halaman 1 dari {len(pages)}" in pages[0]
        assert f"Halaman {len(pages)} dari {len(pages)}" in pages[-1]
        for key, name in names.items():
            want = 1 if key in CHECKINS[index] else 0
            assert text.count(name) == want, (day, name)
        marks = re.findall(r"(\d+)\. \.{6,}", text)
        assert sorted(int(m) for m in marks) == list(range(1, EXPECTED["per_day"][index] + 1))
    _, text = pdf_text(
        client.get(f"/organizer/events/{event_id}/attendance.pdf?day={DAYS[0]}").data
    )
    assert "07.41" in text and "Selasa, 8 Januari 2030" in text
    assert "Ahmad Fauzi, S.Sos." in text and "NIP. 19680411 199303 1 009" in text

    # XLSX: a summary sheet and one sheet per day.
    response = client.get(f"/organizer/events/{event_id}/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == [
        "Ringkasan",
        "Hari 1 08-01-2030",
        "Hari 2 09-01-2030",
        "Hari 3 10-01-2030",
    ]
    summary = book["Ringkasan"]
    header = [c.value for c in summary[1]]
    rows = [
        dict(zip(header, (c.value for c in row), strict=True))
        for row in summary.iter_rows(min_row=2)
    ]
    assert len(rows) == len(PEOPLE)
    day_headers = [h for h in header if h.startswith("Hadir hari")]
    assert [sum(1 for r in rows if r[h] is not None) for h in day_headers] == EXPECTED["per_day"]
    statuses = {r["Email"].split("@")[0]: r["Status"] for r in rows}
    labels = {"confirmed": "Terdaftar", "waitlisted": "Daftar tunggu", "cancelled": "Dibatalkan"}
    assert [statuses[k] for k in EXPECTED["statuses"]] == [
        labels[s] for s in EXPECTED["statuses"].values()
    ]
    assert sum(1 for r in rows if r["Jumlah hari hadir"]) == EXPECTED["attended"]
    for i, sheet in enumerate(book.worksheets[1:]):
        assert sheet.max_row - 1 == EXPECTED["per_day"][i]
        assert sheet.freeze_panes == "A2"
        listed = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
        assert sorted(listed) == sorted(shown(names[k]) for k in CHECKINS[i])
    siti = next(r for r in rows if r["Email"] == "siti@example.com")
    assert siti[day_headers[0]] == datetime(2030, 1, 8, 7, 41)  # naive WIB
    by_name = {r["Nama"] for r in rows}
    assert {
        '\'=HYPERLINK("http://evil.example","klik")',
        "'+62 Budi Santoso",
        "'-Minus Awal",
        "'@Alias Nama",
        "Siti O'Brien, S.E.",
        'Ahmad "Kiki" Rizki',
        "Nguyễn Thị Minh Khai",
        "Дмитрий Шостакович",
        "Żaneta Ćwiek",
    } <= by_name

    # CSV: BOM, one row per registration, a column per day.
    response = client.get(f"/organizer/events/{event_id}/export.csv")
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert response.headers["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    header, body = table[0], table[1:]
    assert len(body) == len(PEOPLE)
    columns = [header.index(h) for h in day_headers]
    assert [sum(1 for r in body if r[c]) for c in columns] == EXPECTED["per_day"]
    email = header.index("Email")
    siti_row = next(r for r in body if r[email] == "siti@example.com")
    assert siti_row[columns[0]] == "2030-01-08 07:41"
    csv_names = {r[header.index("Nama")] for r in body}
    assert csv_names == by_name  # the same neutralised names as the XLSX

    # The JSON API's attendance (door staff and integrations, with a token).
    api = client.get(
        f"/api/v1/events/{event_id}/attendance",
        headers=bearer_of(app, scenario.users["assigned_staff"]),
    ).get_json()
    assert {k: api["counts"][k] for k in EXPECTED["counts"]} == EXPECTED["counts"]
    assert api["confirmed"] == EXPECTED["counts"]["confirmed"]
    assert api["checked_in"] == EXPECTED["attended"]
    assert [d["date"] for d in api["days"]] == [d.isoformat() for d in DAYS]
    assert [d["checked_in"] for d in api["days"]] == EXPECTED["per_day"]
    assert [sum(a["checked_in"] for a in d["arrivals"]) for d in api["days"]] == EXPECTED["per_day"]
    assert {
        a["at"][11:16]: a["checked_in"] for a in api["days"][0]["arrivals"]
    } == FIRST_DAY_ARRIVALS
    assert {
        unit_key(scenario, u["unit_id"]): (
            u["registered"],
            u["attended"],
            [d["checked_in"] for d in u["days"]],
        )
        for u in api["units"]
    } == EXPECTED["units"]
    assert all(u["confirmed"] == u["registered"] for u in api["units"])
    # ... and every arrival, quota and rate exactly as the dashboard has them.
    assert api["days"] == [
        {k: d[k] for k in ("date", "checked_in", "arrivals")} for d in data["days"]
    ]
    assert [(u["unit_id"], u["quota"], u["rate"]) for u in api["units"]] == [
        (u["unit_id"], u["quota"], u["rate"]) for u in data["units"]
    ]


def bearer_of(app, user: User) -> dict:
    """An Authorization header with a new API token of ``user``."""
    from workshop.services.users import issue_token

    with app.app_context():
        token = issue_token(db.session.get(User, user.id))
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_exports_are_audited(app, client, login, scenario):
    login(scenario.users["owner"])
    event_id = scenario.event.id
    for url in (
        f"/organizer/events/{event_id}/export.xlsx",
        f"/organizer/events/{event_id}/export.csv",
        f"/organizer/events/{event_id}/attendance.pdf?day={DAYS[1]}&blank=1",
    ):
        assert client.get(url).status_code == 200
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.action.like("report.%")).order_by(AuditLog.id)
        ).all()
        assert [(r.action, r.user_id, r.object_id) for r in rows] == [
            ("report.export", scenario.users["owner"].id, event_id),
            ("report.export", scenario.users["owner"].id, event_id),
            ("report.attendance_pdf", scenario.users["owner"].id, event_id),
        ]
        assert [r.details.get("format") for r in rows[:2]] == ["xlsx", "csv"]
        assert rows[2].details["blank"] is True


def test_blank_list_has_every_confirmed_person_and_no_times(client, login, scenario):
    login(scenario.users["owner"])
    response = client.get(
        f"/organizer/events/{scenario.event.id}/attendance.pdf?day={DAYS[2]}&blank=1"
    )
    _, text = pdf_text(response.data)
    confirmed = [k for k in PEOPLE if k not in ("tono", "minus", "rina")]
    for key, (name, _, _) in PEOPLE.items():
        assert text.count(name) == (1 if key in confirmed else 0), name
    assert not re.search(r"\b0[789]\.\d\d\b", text)  # no check-in times
    assert (
        "blank" in response.headers["Content-Disposition"]
        or "kosong" in response.headers["Content-Disposition"]
    )


@pytest.mark.parametrize("day", ["2030-01-11", "nonsense", "2030-02-30"])
def test_attendance_pdf_for_a_day_that_is_not_an_event_day_is_404(client, login, scenario, day):
    login(scenario.users["owner"])
    assert (
        client.get(f"/organizer/events/{scenario.event.id}/attendance.pdf?day={day}").status_code
        == 404
    )


def test_dashboard_shows_charts_with_text_equivalents(client, login, scenario):
    login(scenario.users["admin"])
    html = client.get(f"/organizer/events/{scenario.event.id}/dashboard").get_data(as_text=True)
    assert html.count('role="img"') == 4  # three days of arrivals and the units
    assert '<title id="arrivals-' in html and '<desc id="arrivals-' in html
    assert "<caption" in html and "Tabel kedatangan" in html
    assert 'data-live="0"' in html  # the event is over: no polling
    assert "js/dashboard.js" in html
    assert 'style="' not in html  # CSP: no inline styles


# --- permissions -----------------------------------------------------------------------------

ROLES = ["anonymous", "participant", "staff", "assigned_staff", "owner", "other_organizer", "admin"]
ORGANIZER = {
    "anonymous": 302,
    "participant": 403,
    "staff": 403,
    "assigned_staff": 403,
    "owner": 200,
    "other_organizer": 404,
    "admin": 200,
}
ADMIN = {
    "anonymous": 302,
    "participant": 403,
    "staff": 403,
    "assigned_staff": 403,
    "owner": 403,
    "other_organizer": 403,
    "admin": 200,
}
ANY_USER = {**{r: 200 for r in ROLES}, "anonymous": 302}
ROUTES = [
    ("/organizer/events/{id}/dashboard", ORGANIZER),
    ("/organizer/events/{id}/dashboard.json", ORGANIZER),
    ("/organizer/events/{id}/attendance.pdf?day=2030-01-08", ORGANIZER),
    ("/organizer/events/{id}/attendance.pdf?day=2030-01-08&blank=1", ORGANIZER),
    ("/organizer/events/{id}/export.xlsx", ORGANIZER),
    ("/organizer/events/{id}/export.csv", ORGANIZER),
    ("/admin/reports/units", ADMIN),
    ("/admin/reports/units.xlsx?from=2030-01-01&to=2030-12-31", ADMIN),
    ("/admin/reports/jp", ADMIN),
    ("/admin/reports/jp/person?email=siti@example.com", ADMIN),
    ("/admin/reports/jp/person.pdf?email=siti@example.com", ADMIN),
    ("/admin/reports/jp/unit", ADMIN),
    ("/my/jp", ANY_USER),
    ("/my/jp.pdf", ANY_USER),
]


@pytest.fixture
def small(app, make_user, make_event, person, register):
    """Every role, and an event of the owner with one person checked in on day one."""
    users = {
        "anonymous": None,
        "participant": make_user(Role.PARTICIPANT),
        "staff": make_user(Role.STAFF),
        "assigned_staff": make_user(Role.STAFF),
        "owner": make_user(Role.ORGANIZER),
        "other_organizer": make_user(Role.ORGANIZER),
        "admin": make_user(Role.ADMIN),
    }
    event = make_event(
        owner=users["owner"], starts_at=START, ends_at=START + timedelta(days=2, hours=8)
    )
    reg_id = register(event, person(email="siti@example.com"), send_mail=False).registration.id
    with app.app_context():
        day = db.session.scalar(
            sa.select(EventDay).where(EventDay.event_id == event.id, EventDay.date == DAYS[0])
        )
        db.session.add(
            Checkin(
                registration_id=reg_id,
                event_day_id=day.id,
                event_id=event.id,
                method=CheckinMethod.SEARCH,
                checked_in_at=START,
            )
        )
        db.session.add(EventStaff(event_id=event.id, user_id=users["assigned_staff"].id))
        db.session.commit()
    return Scenario(event, users, {}, {"siti": reg_id})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("path", "expected"), ROUTES)
def test_permission_table(client, login, small, role, path, expected):
    if small.users[role] is not None:
        login(small.users[role])
    response = client.get(path.format(id=small.event.id))
    assert response.status_code == expected[role], (role, path)
    if expected[role] == 302:
        assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "path",
    [
        "/organizer/events/999999/dashboard",
        "/organizer/events/999999/export.csv",
        "/organizer/events/{id}/export.pdf",
    ],
)
def test_unknown_event_or_format_is_404(client, login, scenario, path):
    login(scenario.users["admin"])
    assert client.get(path.format(id=scenario.event.id)).status_code == 404


# --- calendar -------------------------------------------------------------------------------


def test_event_ics_in_jakarta_time_with_location_and_stable_uid(client, scenario):
    response = client.get(f"/events/{scenario.event.id}/event.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.data)
    timezones = [c for c in cal.walk("VTIMEZONE")]
    assert [str(tz["TZID"]) for tz in timezones] == ["Asia/Jakarta"]
    events = cal.walk("VEVENT")
    assert len(events) == 3  # one per day, 08.00-16.00 each
    first = events[0]
    start, end = first.decoded("DTSTART"), first.decoded("DTEND")
    assert str(start.tzinfo) == "Asia/Jakarta" and str(end.tzinfo) == "Asia/Jakarta"
    assert (start.replace(tzinfo=None), end.replace(tzinfo=None)) == (
        datetime(2030, 1, 8, 8, 0),
        datetime(2030, 1, 8, 16, 0),
    )
    assert start.astimezone(UTC) == datetime(2030, 1, 8, 1, 0, tzinfo=UTC)
    assert b"DTSTART;TZID=Asia/Jakarta:20300108T080000" in response.data
    assert str(first["SUMMARY"]) == "Workshop <Inovasi> & Pelayanan"
    assert str(first["LOCATION"]) == "Ruang Rapat Pangripta, Bappeda"
    assert str(first["URL"]).endswith(f"/events/{scenario.event.id}")
    assert str(first["URL"]) in str(first["DESCRIPTION"])
    again = Calendar.from_ical(client.get(f"/events/{scenario.event.id}/event.ics").data)
    assert [str(e["UID"]) for e in again.walk("VEVENT")] == [str(e["UID"]) for e in events]
    assert len({str(e["UID"]) for e in events}) == 3


def test_draft_ics_only_for_who_manages_it(app, client, login, scenario, make_event):
    draft = make_event(owner=scenario.users["owner"], status=EventStatus.DRAFT)
    url = f"/events/{draft.id}/event.ics"
    assert client.get(url).status_code == 404
    login(scenario.users["other_organizer"])
    assert client.get(url).status_code == 404
    client.post("/auth/logout")
    login(scenario.users["owner"])
    assert client.get(url).status_code == 200
    assert client.get("/events/999999/event.ics").status_code == 404


def test_feed_lists_public_events_only(client, scenario, make_event):
    draft = make_event(owner=scenario.users["owner"], status=EventStatus.DRAFT, title="Rapat Draf")
    cancelled = make_event(status=EventStatus.CANCELLED, title="Rapat Batal")
    response = client.get("/calendar.ics")
    assert response.status_code == 200
    cal = Calendar.from_ical(response.data)
    summaries = {str(e["SUMMARY"]): str(e["STATUS"]) for e in cal.walk("VEVENT")}
    assert summaries["Workshop <Inovasi> & Pelayanan"] == "CONFIRMED"
    assert summaries["Rapat Batal"] == "CANCELLED"
    assert "Rapat Draf" not in summaries
    assert draft.id != cancelled.id
    assert str(cal["X-WR-TIMEZONE"]) == "Asia/Jakarta"


def test_confirmation_mail_attaches_the_event_ics(app, make_event, person, register):
    from workshop.models import OutgoingMail
    from workshop.services import mail

    event = make_event()
    reg_id = register(event, person(), send_mail=True).registration.id
    with app.app_context(), app.test_request_context():
        queued = db.session.scalar(
            sa.select(OutgoingMail).where(
                OutgoingMail.registration_id == reg_id,
                OutgoingMail.kind == "registration.confirmed",
            )
        )
        message = mail.build_message(queued)
        files = {part.get_filename(): part for part in message.iter_attachments()}
        ics = files[f"kegiatan-{event.id}.ics"]
        assert ics.get_content_type() == "text/calendar"
        cal = Calendar.from_ical(ics.get_content())
        assert str(cal.walk("VEVENT")[0]["SUMMARY"]) == event.title


# --- JP recaps and the per-unit report -------------------------------------------------------


@pytest.fixture
def certificates(app, scenario):
    """Certificates of 8 JP for siti and kiki; kiki's is revoked."""
    with app.app_context():
        for seq, key in enumerate(("siti", "kiki"), start=1):
            db.session.add(
                Certificate(
                    event_id=scenario.event.id,
                    registration_id=scenario.regs[key],
                    sequence=seq,
                    number=f"{seq:03d}/SERT/BAPPEDA/I/2030",
                    role="participant",
                    hours=8,
                    issued_at=FIXED_NOW,
                    revoked_at=FIXED_NOW if key == "kiki" else None,
                )
            )
        db.session.commit()


def test_participant_sees_own_jp_matched_by_email(
    app, client, make_user, scenario, certificates, login
):
    siti = make_user(Role.PARTICIPANT, email="siti@example.com", name="Siti O'Brien, S.E.")
    login(siti)
    html = client.get("/my/jp").get_data(as_text=True)
    assert "Tahun 2030" in html and "001/SERT/BAPPEDA/I/2030" in html
    assert 'data-total="8"' in html and "kurang 12 JP" in html
    assert "Siti O&#39;Brien, S.E." in html
    response = client.get("/my/jp.pdf")
    assert response.mimetype == "application/pdf"
    _, text = pdf_text(response.data)
    assert "REKAP JAM PELAJARAN" in text and "001/SERT/BAPPEDA/I/2030" in text
    assert "Jumlah JP tahun 2030" in text and "Halaman 1 dari 1" in text
    client.post("/auth/logout")
    kiki = make_user(Role.PARTICIPANT, email="kiki@example.com")
    login(kiki)
    html = client.get("/my/jp").get_data(as_text=True)
    assert "001/SERT" not in html and 'data-total="0"' in html  # revoked: no JP


def test_admin_jp_search_person_and_unit(client, login, scenario, certificates):
    login(scenario.users["admin"])
    html = client.get("/admin/reports/jp?q=o'brien").get_data(as_text=True)
    assert "/admin/reports/jp/person?email=siti" in html
    html = client.get("/admin/reports/jp/person?email=siti@example.com").get_data(as_text=True)
    assert 'data-total="8"' in html
    assert client.get("/admin/reports/jp/person?email=nobody@example.com").status_code == 404
    unit_id = scenario.units["bappeda"].id
    html = client.get(f"/admin/reports/jp/unit?unit_id={unit_id}&year=2030").get_data(as_text=True)
    below = re.search(r'data-list="below-target">(.*?)</ul>', html, re.S).group(1)
    for name in (
        "Siti O&#39;Brien, S.E.",
        "Ahmad &#34;Kiki&#34; Rizki",
        "@Alias Nama",
        "Wati Antre",
    ):
        assert name in below
    assert "8 JP" in below


def test_unit_report_page_xlsx_and_api(app, client, login, scenario, certificates):
    login(scenario.users["admin"])
    html = client.get("/admin/reports/units?from=2030-01-01&to=2030-01-31").get_data(as_text=True)
    row = re.search(rf'data-unit="{scenario.units["bappeda"].id}"(.*?)</tr>', html, re.S)
    assert re.findall(r">(\d+)</td>", row.group(1)) == ["1", "1", "4", "4", "8"]
    response = client.get("/admin/reports/units.xlsx?from=2030-01-01&to=2030-01-31")
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = {r[1]: r[3:] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["Badan Perencanaan Pembangunan Daerah"] == (1, 1, 4, 4, 8)
    assert values["Dinas Kesehatan"] == (0, 0, 0, 0, 0)
    assert "Dinas Lama" not in values  # inactive and without data
    assert client.get("/admin/reports/units?from=2030-02-01&to=2030-01-01").status_code == 422


def test_unit_report_api(app, client, scenario, certificates):
    from workshop.services.users import issue_token

    with app.app_context():
        tokens = {
            role: issue_token(db.session.get(User, scenario.users[role].id))
            for role in ("admin", "owner")
        }
        db.session.commit()

    def get(query, role="admin"):
        return client.get(
            f"/api/v1/reports/units{query}", headers={"Authorization": f"Bearer {tokens[role]}"}
        )

    response = get("?from=2030-01-01&to=2030-12-31")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["from"], body["to"]) == ("2030-01-01", "2030-12-31")
    bappeda = next(i for i in body["items"] if i["short_name"] == "Bappeda")
    assert bappeda == {
        "unit_id": scenario.units["bappeda"].id,
        "name": "Badan Perencanaan Pembangunan Daerah",
        "short_name": "Bappeda",
        "active": True,
        "events_registered": 1,
        "events_attended": 1,
        "people_registered": 4,
        "people_attended": 4,
        "jp_total": 8,
    }
    assert body["count"] == len(body["items"]) == 4  # active units
    empty = get("?from=2031-01-01&to=2031-12-31").get_json()
    assert all(i["events_registered"] == 0 for i in empty["items"])
    assert get("?from=2030-01-01&to=2030-12-31", role="owner").status_code == 403
    assert client.get("/api/v1/reports/units?from=2030-01-01&to=2030-12-31").status_code == 401
    for query, field in [
        ("?from=2030-13-01&to=2030-12-31", "from"),
        ("?to=2030-12-31", "from"),
        ("?from=2030-01-01&to=x", "to"),
        ("?from=2030-02-01&to=2030-01-01", "to"),
    ]:
        response = get(query)
        assert response.status_code == 422, query
        assert response.get_json()["error"] == "invalid"
        assert field in response.get_json()["fields"], query


# --- the number of queries does not grow with the registrations --------------------------


def build_large_event(app, owner: User, units: list[Unit], n: int) -> int:
    """An event of three days with ``n`` confirmed registrations (bulk inserted) of which
    about four in five check in each day."""
    with app.app_context():
        event = Event(
            title=f"Kegiatan {n}",
            venue="Aula",
            starts_at=START,
            ends_at=START + timedelta(days=2, hours=8),
            owner_id=owner.id,
            status=EventStatus.PUBLISHED,
            unit_quota=n,
        )
        event.days = [EventDay(date=d) for d in DAYS]
        db.session.add(event)
        db.session.flush()
        now = FIXED_NOW
        db.session.execute(
            sa.insert(Registration),
            [
                {
                    "event_id": event.id,
                    "name": f"Peserta {i:05d}",
                    "email": f"p{n}-{i}@example.com",
                    "employment_status": "pns",
                    "nip": f"19800101200501{i % 2 + 1}{i % 1000:03d}" if i < 1000 else None,
                    "position": "Analis",
                    "role": "participant",
                    "unit_id": units[i % len(units)].id if i % 7 else None,
                    "institution": None if i % 7 else "Pemerintah Kota Bandung",
                    "status": "confirmed",
                    "manage_token": f"m-{n}-{i:05d}-{'x' * 20}",
                    "check_in_code": f"c-{n}-{i:05d}-{'y' * 20}",
                    "created_at": now,
                    "updated_at": now,
                    "confirmed_at": now,
                }
                for i in range(n)
            ],
        )
        ids = db.session.scalars(
            sa.select(Registration.id)
            .where(Registration.event_id == event.id)
            .order_by(Registration.id)
        ).all()
        checkins = []
        for d, day in enumerate(event.days):
            for j, reg_id in enumerate(ids):
                if (j + d) % 5:
                    checkins.append(
                        {
                            "registration_id": reg_id,
                            "event_day_id": day.id,
                            "event_id": event.id,
                            "method": "camera",
                            "checked_in_at": datetime.combine(
                                day.date, datetime.min.time(), tzinfo=WIB
                            )
                            + timedelta(hours=7, minutes=(j % 90)),
                        }
                    )
        db.session.execute(sa.insert(Checkin), checkins)
        db.session.commit()
        return event.id


class QueryCounter:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self.on_execute)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self.on_execute)

    def on_execute(self, *args):
        self.count += 1


def test_query_count_does_not_grow_with_registrations(app, client, login, make_user, make_unit):
    owner = make_user(Role.ORGANIZER)
    units = [make_unit() for _ in range(6)]
    small = build_large_event(app, owner, units, 50)
    large = build_large_event(app, owner, units, 2000)
    login(owner)
    paths = [
        "/organizer/events/{id}/dashboard",
        "/organizer/events/{id}/dashboard.json",
        "/organizer/events/{id}/export.xlsx",
        "/organizer/events/{id}/export.csv",
        "/organizer/events/{id}/attendance.pdf?day=2030-01-09",
    ]
    paths.append("/api/v1/events/{id}/attendance")
    api = bearer_of(app, owner)
    with app.app_context():
        engine = db.engine
    for path in paths:
        headers = api if path.startswith("/api/") else {}
        client.get(path.format(id=small), headers=headers)  # warm up what a first request loads
        counts = {}
        for event_id in (small, large):
            with QueryCounter(engine) as counter:
                response = client.get(path.format(id=event_id), headers=headers)
            assert response.status_code == 200
            counts[event_id] = counter.count
        assert counts[small] == counts[large], (path, counts)
        assert counts[small] <= 15, (path, counts)
    data = client.get(f"/organizer/events/{large}/dashboard.json").get_json()
    assert data["counts"]["confirmed"] == 2000
    assert [d["checked_in"] for d in data["days"]] == [1600, 1600, 1600]
    body = client.get(f"/api/v1/events/{large}/attendance", headers=api).get_json()
    assert [d["checked_in"] for d in body["days"]] == [1600, 1600, 1600]
    assert sum(u["registered"] for u in body["units"]) == body["confirmed"] == 2000
