"""The door (presensi): page and JSON permissions, every scan outcome, search, stats,
undo, throttling of unknown codes, CSRF, and door staff assignment."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import FIXED_NOW
from workshop.extensions import db, limiter
from workshop.models import (
    AuditLog,
    Checkin,
    CheckinMethod,
    Event,
    EventStaff,
    Registration,
    Role,
    User,
)
from workshop.services import checkin, registration
from workshop.timeutil import WIB

DAY1 = datetime(2030, 1, 15, 8, 0, tzinfo=WIB)  # FIXED_NOW is 09.00 WIB that day


@dataclass
class Door:
    event: Event
    users: dict  # role name -> User (None for anonymous)
    regs: dict  # label -> Registration


@pytest.fixture
def enrol(register):
    """Register without mail: these tests are about the door, not the outbox."""

    def do(event, data):
        return register(event, data, send_mail=False).registration

    return do


@pytest.fixture
def door(app, make_event, make_user, make_unit, person, enrol):
    """A two-day event running today (capacity 4), its people and some registrations:
    four confirmed (one in Bappeda), one cancelled, one on the waiting list."""
    users = {
        "anonymous": None,
        "participant": make_user(Role.PARTICIPANT),
        "staff": make_user(Role.STAFF, name="Andi Saputra"),
        "assigned_staff": make_user(Role.STAFF, name="Rina Petugas"),
        "owner": make_user(Role.ORGANIZER, name="Bagian Organisasi"),
        "other_organizer": make_user(Role.ORGANIZER),
        "admin": make_user(Role.ADMIN),
    }
    bappeda = make_unit(name="Badan Perencanaan Pembangunan Daerah", short_name="Bappeda")
    event = make_event(
        owner=users["owner"], starts_at=DAY1, ends_at=DAY1 + timedelta(days=1, hours=8), capacity=4
    )
    with app.app_context():
        checkin.assign_staff(
            db.session.get(Event, event.id),
            db.session.get(User, users["assigned_staff"].id),
            db.session.get(User, users["owner"].id),
        )
        db.session.commit()
    regs = {
        "sri": enrol(
            event,
            person(
                name="Sri Wahyuni, S.E.",
                unit=bappeda,
                employment_status="pns",
                nip="19680411 199303 2 009",
            ),
        ),
        "budi": enrol(event, person(name="Budi Santoso")),
        "cancelled": enrol(event, person(name="Dedi Batal")),
    }
    with app.app_context():
        registration.cancel(regs["cancelled"].id, now=FIXED_NOW)
    regs["wati"] = enrol(event, person(name="Wati Lestari"))
    regs["ahmad"] = enrol(event, person(name="Ahmad Hadir"))
    regs["waiting"] = enrol(event, person(name="Tono Antre"))
    assert [regs[k].status for k in ("wati", "ahmad", "waiting")] == [
        "confirmed",
        "confirmed",
        "waitlisted",
    ]
    return Door(event, users, regs)


def as_user(client, login, user):
    if user is not None:
        login(user)


def checkin_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Checkin.id)))


def scan(client, door, code, **body):
    payload = {"code": code, "method": "camera", **body}
    return client.post(f"/checkin/events/{door.event.id}/scan", json=payload)


def seed_checkin(app, door, reg_label="budi", who="assigned_staff") -> int:
    with app.app_context():
        actor = db.session.get(User, door.users[who].id)
        result = checkin.scan(
            checkin.open_door(actor, door.event.id, FIXED_NOW),
            door.regs[reg_label].check_in_code,
            actor=actor,
            now=FIXED_NOW,
        )
        assert result.result == "ok"
        return result.checkin.id


# --- permissions -----------------------------------------------------------------

ROLES = ["anonymous", "participant", "staff", "assigned_staff", "owner", "other_organizer", "admin"]
DOOR = {
    "anonymous": None,
    "participant": 403,
    "staff": 403,
    "assigned_staff": 200,
    "owner": 200,
    "other_organizer": 403,
    "admin": 200,
}
UNDO = {**DOOR, "assigned_staff": 403}
STAFF_PAGE = {
    "anonymous": 302,
    "participant": 403,
    "staff": 403,
    "assigned_staff": 403,
    "owner": 200,
    "other_organizer": 404,
    "admin": 200,
}

# (method, path, expected by role, anonymous answer, json body)
ROUTES = [
    ("GET", "/checkin/", {**DOOR, "staff": 200, "other_organizer": 200}, 302, None),
    ("GET", "/checkin/events/{id}", DOOR, 302, None),
    ("POST", "/checkin/events/{id}/scan", DOOR, 401, {"code": "x" * 43}),
    ("GET", "/checkin/events/{id}/search?q=Sri", DOOR, 401, None),
    ("GET", "/checkin/events/{id}/stats", DOOR, 401, None),
    ("POST", "/checkin/events/{id}/registrations/{rid}/checkin", DOOR, 401, {}),
    ("POST", "/checkin/events/{id}/checkins/{cid}/undo", UNDO, 401, {}),
    ("GET", "/checkin/events/{id}/staff", STAFF_PAGE, 302, None),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "expected", "anonymous", "body"), ROUTES)
def test_permission_table(app, client, login, door, role, method, path, expected, anonymous, body):
    cid = seed_checkin(app, door)
    url = path.format(id=door.event.id, rid=door.regs["sri"].id, cid=cid)
    as_user(client, login, door.users[role])
    response = client.open(url, method=method, json=body)
    want = anonymous if role == "anonymous" else expected[role]
    assert response.status_code == want, (role, url, response.status_code)
    if want == 302:
        assert "/auth/login" in response.headers["Location"]
    is_json_route = "/scan" in url or "/search" in url or "/stats" in url or method == "POST"
    if is_json_route and "/staff" not in url:
        assert response.is_json, (role, url)  # errors too: the page's script reads them
        if want >= 400:
            assert response.get_json()["error"]


def test_staff_assignment_post_permissions(client, login, door):
    new_staff_id = door.users["staff"].id
    url = f"/checkin/events/{door.event.id}/staff"
    data = {"action": "assign", "user_id": str(new_staff_id)}
    assert client.post(url, data=data).status_code == 302  # anonymous: to the login page
    for role, want in [
        ("participant", 403),
        ("assigned_staff", 403),
        ("other_organizer", 404),
        ("owner", 302),
    ]:
        client.post("/auth/logout")
        login(door.users[role])
        assert client.post(url, data=data).status_code == want, role


@pytest.mark.parametrize(
    "path",
    ["/checkin/events/9999", "/checkin/events/9999/stats", "/checkin/events/9999/search?q=ab"],
)
def test_unknown_event_is_404(client, login, door, path):
    login(door.users["admin"])
    response = client.get(path)
    assert response.status_code == 404
    if path != "/checkin/events/9999":
        assert response.get_json()["error"] == "not_found"


def test_unknown_event_scan_is_404_json(client, login, door):
    login(door.users["admin"])
    response = client.post("/checkin/events/9999/scan", json={"code": "x" * 43})
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_events_list_shows_only_assigned_events(app, client, login, door, make_event):
    make_event(title="Rapat Koordinasi Lain")
    login(door.users["assigned_staff"])
    page = client.get("/checkin/").get_data(as_text=True)
    assert door.event.title in page
    assert f'/checkin/events/{door.event.id}"' in page
    assert "Rapat Koordinasi Lain" not in page
    assert "Berlangsung hari ini" in page
    client.post("/auth/logout")
    login(door.users["staff"])
    page = client.get("/checkin/").get_data(as_text=True)
    assert door.event.title not in page
    assert "belum ditugaskan" in page


def test_page_has_what_the_script_needs(client, login, door):
    login(door.users["assigned_staff"])
    response = client.get(f"/checkin/events/{door.event.id}")
    page = response.get_data(as_text=True)
    assert re.search(r'<meta name="csrf-token" content="[^"]+">', page)
    assert "vendor/qr-scanner/qr-scanner.umd.min.js" in page
    assert "js/checkin.js" in page
    assert 'id="checkin-config"' in page and 'type="application/json"' in page
    # No executable inline script (CSP): every <script> is external or JSON data.
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert " style=" not in page and " onclick=" not in page
    assert 'aria-live="assertive"' in page
    assert 'name="code"' in page and 'name="q"' in page
    assert "worker-src 'self' blob:" in response.headers["Content-Security-Policy"]
    assert "Atur petugas presensi" not in page  # staff do not manage the door staff
    client.post("/auth/logout")
    login(door.users["owner"])
    assert "Atur petugas presensi" in client.get(f"/checkin/events/{door.event.id}").get_data(
        as_text=True
    )


def test_nav_shows_presensi_for_door_roles_only(client, login, door):
    login(door.users["participant"])
    assert ">Presensi<" not in client.get("/").get_data(as_text=True)
    client.post("/auth/logout")
    login(door.users["staff"])
    assert ">Presensi<" in client.get("/").get_data(as_text=True)


# --- every scan outcome through the JSON endpoint -------------------------------------


def test_ok_then_already_with_who_and_when(app, client, login, door):
    login(door.users["assigned_staff"])
    sri = door.regs["sri"]
    first = scan(client, door, sri.check_in_code)
    assert first.status_code == 200
    body = first.get_json()
    assert body["result"] == "ok" and body["tone"] == "ok"
    assert body["message"] == "Berhasil hadir"
    assert body["registration"] == {
        "id": sri.id,
        "name": "Sri Wahyuni, S.E.",
        "unit": "Badan Perencanaan Pembangunan Daerah",
        "role": "participant",
        "role_label": "Peserta",
    }
    assert body["checked_in_at"] == "2030-01-15T09:00:00+07:00"
    assert body["checked_in_at_text"] == "09.00 WIB"
    assert body["by"] == "Rina Petugas"
    assert body["day"] == "2030-01-15"

    again = scan(client, door, sri.check_in_code, method="scanner").get_json()
    assert again["result"] == "already_checked_in" and again["tone"] == "warn"
    assert again["by"] == "Rina Petugas" and again["checked_in_at_text"] == "09.00 WIB"
    assert "09.00 WIB" in again["detail"] and "Rina Petugas" in again["detail"]
    assert again["registration"]["name"] == "Sri Wahyuni, S.E."
    assert checkin_rows(app) == 1
    with app.app_context():
        row = db.session.scalar(sa.select(Checkin))
        assert (row.registration_id, row.method, row.scanned_by_id) == (
            sri.id,
            CheckinMethod.CAMERA,
            door.users["assigned_staff"].id,
        )


def test_the_door_answers_in_the_users_language(client, login, door):
    login(door.users["assigned_staff"])
    client.post("/auth/language", data={"lang": "en"})
    first = scan(client, door, door.regs["budi"].check_in_code).get_json()
    assert (first["result"], first["message"]) == ("ok", "Checked in")
    assert first["registration"]["role_label"] == "Participant"
    again = scan(client, door, door.regs["budi"].check_in_code).get_json()
    assert again["message"] == "Already checked in today"
    # The same outcome in the other language, in the same process: no answer is stuck
    # in the language it was first given in.
    client.post("/auth/language", data={"lang": "id"})
    assert scan(client, door, door.regs["budi"].check_in_code).get_json()["message"] == (
        "Sudah tercatat hadir hari ini"
    )


def test_handheld_scanner_whitespace_and_method(app, client, login, door):
    login(door.users["owner"])
    body = scan(
        client, door, f"  {door.regs['budi'].check_in_code}\r\n", method="scanner"
    ).get_json()
    assert body["result"] == "ok"
    with app.app_context():
        assert db.session.scalar(sa.select(Checkin.method)) == CheckinMethod.SCANNER


def test_wrong_event_names_the_event(app, client, login, door, make_event, person, enrol):
    other = make_event(title="Rapat Koordinasi SINOVIK", starts_at=DAY1)
    reg = enrol(other, person())
    login(door.users["assigned_staff"])
    body = scan(client, door, reg.check_in_code).get_json()
    assert body["result"] == "wrong_event" and body["tone"] == "error"
    assert body["other_event"] == "Rapat Koordinasi SINOVIK"
    assert "Rapat Koordinasi SINOVIK" in body["detail"]
    assert body["registration"] is None  # not this event's person: no details
    assert checkin_rows(app) == 0


def test_wrong_event_hides_a_draft(app, client, login, door, make_event, person, enrol):
    draft = make_event(title="Rapat Rahasia", status="draft")
    reg = enrol(draft, person())
    login(door.users["assigned_staff"])
    body = scan(client, door, reg.check_in_code).get_json()
    assert body["result"] == "wrong_event"
    assert body["other_event"] is None and "Rapat Rahasia" not in body["detail"]
    assert body["detail"] == "Tiket ini untuk kegiatan lain."


@pytest.mark.parametrize(
    ("label", "result", "tone", "words"),
    [
        ("cancelled", "cancelled", "error", "dibatalkan"),
        ("waiting", "not_confirmed", "warn", "daftar tunggu"),
    ],
)
def test_cancelled_and_waitlisted(app, client, login, door, label, result, tone, words):
    login(door.users["assigned_staff"])
    body = scan(client, door, door.regs[label].check_in_code).get_json()
    assert (body["result"], body["tone"]) == (result, tone)
    assert words in (body["message"] + body["detail"]).lower()
    assert body["registration"]["id"] == door.regs[label].id
    assert checkin_rows(app) == 0


def test_not_event_day(app, client, login, door, make_event, person, enrol):
    later = make_event(owner=door.users["owner"], title="Workshop Lanjutan")  # in 10 days
    reg = enrol(later, person())
    login(door.users["owner"])
    response = client.post(
        f"/checkin/events/{later.id}/scan", json={"code": reg.check_in_code, "method": "camera"}
    )
    body = response.get_json()
    assert (body["result"], body["tone"]) == ("not_event_day", "warn")
    assert "Jadwal kegiatan: Jumat, 25 Januari 2030" in body["detail"]
    assert checkin_rows(app) == 0


BAD_TEXT = [
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param("A" * 5000, id="5000-chars"),
    pytest.param("abc\x00def\x07ghi\x1b[2Jjklmnopq", id="control-chars"),
    pytest.param("https://example.com/promo?utm=qr", id="other-site-url"),
    pytest.param("'; DROP TABLE checkin; --", id="sql"),
    pytest.param("x" * 43, id="well-formed-unknown"),
]


@pytest.mark.parametrize("text", BAD_TEXT)
def test_bad_scanned_text_is_a_clear_not_found(app, client, login, door, text):
    login(door.users["assigned_staff"])
    response = scan(client, door, text, nonce="nonce-bad-text-1")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["result"], body["tone"]) == ("not_found", "error")
    assert body["message"] == "Kode tidak dikenal"
    assert body["detail"]
    assert body["registration"] is None
    assert checkin_rows(app) == 0


def test_another_events_code_records_nothing(app, client, login, door, make_event, person, enrol):
    other = make_event(starts_at=DAY1)
    reg = enrol(other, person())
    login(door.users["admin"])
    assert scan(client, door, reg.check_in_code).get_json()["result"] == "wrong_event"
    assert checkin_rows(app) == 0


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(None, id="not-json"),
        pytest.param(["a", "b"], id="json-list"),
        pytest.param({"code": 12345}, id="number-code"),
        pytest.param({"code": None}, id="null-code"),
        pytest.param({"code": "x" * 43, "method": "telepathy"}, id="bad-method"),
        pytest.param({"code": "x" * 43, "nonce": "a b"}, id="bad-nonce"),
        pytest.param({"code": "x" * 43, "nonce": 7}, id="number-nonce"),
    ],
)
def test_malformed_requests_answer_json_without_5xx(app, client, login, door, body):
    login(door.users["assigned_staff"])
    url = f"/checkin/events/{door.event.id}/scan"
    if body is None:
        response = client.post(
            url, data="code=abc", content_type="application/x-www-form-urlencoded"
        )
    else:
        response = client.post(url, json=body)
    assert response.status_code in (200, 400)
    assert response.is_json
    data = response.get_json()
    assert data.get("result") == "not_found" or data.get("error") == "bad_request"
    assert checkin_rows(app) == 0


def test_nonce_retry_counts_once(app, client, login, door):
    login(door.users["assigned_staff"])
    code = door.regs["sri"].check_in_code
    nonce = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
    first = scan(client, door, code, nonce=nonce).get_json()
    retry = scan(client, door, code, nonce=nonce).get_json()
    assert first["result"] == retry["result"] == "ok"
    assert first["checkin_id"] == retry["checkin_id"]
    assert checkin_rows(app) == 1
    other = scan(client, door, code, nonce="0f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f").get_json()
    assert other["result"] == "already_checked_in"
    assert checkin_rows(app) == 1


# --- search -------------------------------------------------------------------------


def test_search_by_name_nip_and_unit_shows_who_is_present(app, client, login, door):
    seed_checkin(app, door, "sri")
    login(door.users["assigned_staff"])
    url = f"/checkin/events/{door.event.id}/search"
    by_name = client.get(url, query_string={"q": "wahyu"}).get_json()
    assert [r["name"] for r in by_name["results"]] == ["Sri Wahyuni, S.E."]
    hit = by_name["results"][0]
    assert hit["checked_in"] is True and hit["checked_in_at_text"] == "09.00 WIB"
    assert hit["checkin_url"].endswith(f"/registrations/{door.regs['sri'].id}/checkin")
    by_nip = client.get(url, query_string={"q": "199303 2"}).get_json()
    assert [r["name"] for r in by_nip["results"]] == ["Sri Wahyuni, S.E."]
    by_unit = client.get(url, query_string={"q": "Bappeda"}).get_json()
    assert [r["id"] for r in by_unit["results"]] == [door.regs["sri"].id]
    budi = client.get(url, query_string={"q": "Budi"}).get_json()["results"][0]
    assert budi["checked_in"] is False and budi["status"] == "confirmed"
    waiting = client.get(url, query_string={"q": "Tono"}).get_json()["results"][0]
    assert (waiting["status"], waiting["status_label"]) == ("waitlisted", "Daftar tunggu")
    short = client.get(url, query_string={"q": "S"}).get_json()
    assert short["results"] == [] and short["too_short"] is True


def test_search_checkin(app, client, login, door, make_event, person, enrol):
    login(door.users["assigned_staff"])
    budi = door.regs["budi"]
    url = f"/checkin/events/{door.event.id}/registrations/{budi.id}/checkin"
    body = client.post(url, json={"nonce": "5e1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"}).get_json()
    assert body["result"] == "ok" and body["registration"]["name"] == "Budi Santoso"
    assert client.post(url, json={}).get_json()["result"] == "already_checked_in"
    with app.app_context():
        row = db.session.scalar(sa.select(Checkin))
        assert (row.registration_id, row.method) == (budi.id, CheckinMethod.SEARCH)
    # Someone of another event through this event's door: unknown here, nothing recorded.
    stranger = enrol(make_event(starts_at=DAY1), person())
    other_url = f"/checkin/events/{door.event.id}/registrations/{stranger.id}/checkin"
    assert client.post(other_url, json={}).get_json()["result"] == "not_found"
    cancelled_url = (
        f"/checkin/events/{door.event.id}/registrations/{door.regs['cancelled'].id}/checkin"
    )
    assert client.post(cancelled_url, json={}).get_json()["result"] == "cancelled"
    assert checkin_rows(app) == 1


# --- stats and undo -------------------------------------------------------------------


def test_stats_count_today_per_unit_and_list_recent(app, client, login, door):
    seed_checkin(app, door, "sri")
    seed_checkin(app, door, "budi", who="owner")
    login(door.users["assigned_staff"])
    stats = client.get(f"/checkin/events/{door.event.id}/stats").get_json()
    assert stats["day"] == "2030-01-15" and stats["is_event_day"] is True
    assert (stats["checked_in"], stats["confirmed"]) == (2, 4)
    units = {row["unit"]: (row["checked_in"], row["confirmed"]) for row in stats["units"]}
    assert units == {"Bappeda": (1, 1), "Instansi lain": (1, 3)}
    assert [r["name"] for r in stats["recent"]] == ["Budi Santoso", "Sri Wahyuni, S.E."]
    assert stats["recent"][0]["by"] == "Bagian Organisasi"
    assert stats["recent"][0]["at_text"] == "09.00 WIB"
    assert all(r["undo_url"] is None for r in stats["recent"])  # staff may not undo
    client.post("/auth/logout")
    login(door.users["owner"])
    stats = client.get(f"/checkin/events/{door.event.id}/stats").get_json()
    assert all(r["undo_url"].endswith("/undo") for r in stats["recent"])


def test_recent_is_limited_to_twenty(app, client, login, door, person, enrol, make_event):
    big = make_event(owner=door.users["owner"], starts_at=DAY1)
    with app.app_context():
        owner = db.session.get(User, door.users["owner"].id)
        event = db.session.get(Event, big.id)
    regs = [enrol(big, person()) for _ in range(22)]
    with app.app_context():
        for reg in regs:
            actor = db.session.get(User, owner.id)
            assert (
                checkin.scan(
                    checkin.open_door(actor, event.id, FIXED_NOW),
                    reg.check_in_code,
                    actor=actor,
                    now=FIXED_NOW,
                ).result
                == "ok"
            )
    login(door.users["owner"])
    stats = client.get(f"/checkin/events/{big.id}/stats").get_json()
    assert stats["checked_in"] == 22 and len(stats["recent"]) == 20


def test_stats_outside_event_days(app, client, login, door, make_event):
    later = make_event(owner=door.users["owner"])
    login(door.users["owner"])
    stats = client.get(f"/checkin/events/{later.id}/stats").get_json()
    assert stats["is_event_day"] is False and stats["day"] is None
    page = client.get(f"/checkin/events/{later.id}").get_data(as_text=True)
    assert "Hari ini bukan hari kegiatan." in page


def test_undo_by_organizer_keeps_an_audit_row(app, client, login, door):
    cid = seed_checkin(app, door, "sri")
    login(door.users["owner"])
    response = client.post(f"/checkin/events/{door.event.id}/checkins/{cid}/undo", json={})
    assert response.status_code == 200
    assert response.get_json()["removed"] == {
        "id": cid,
        "registration_id": door.regs["sri"].id,
        "name": "Sri Wahyuni, S.E.",
    }
    assert checkin_rows(app) == 0
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "checkin.undo"))
        assert entry.user_id == door.users["owner"].id
        assert entry.details["registration_id"] == door.regs["sri"].id
    missing = client.post(f"/checkin/events/{door.event.id}/checkins/{cid}/undo", json={})
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    # Undone: the person can be checked in again.
    assert scan(client, door, door.regs["sri"].check_in_code).get_json()["result"] == "ok"


def test_undo_refused_for_staff(app, client, login, door):
    cid = seed_checkin(app, door, "sri")
    login(door.users["assigned_staff"])
    response = client.post(f"/checkin/events/{door.event.id}/checkins/{cid}/undo", json={})
    assert response.status_code == 403 and response.get_json()["error"] == "forbidden"
    assert checkin_rows(app) == 1
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count(AuditLog.id)).where(AuditLog.action == "checkin.undo")
            )
            == 0
        )


def test_undo_of_another_events_checkin_is_404(app, client, login, door, make_event, person, enrol):
    other = make_event(owner=door.users["owner"], starts_at=DAY1)
    reg = enrol(other, person())
    with app.app_context():
        actor = db.session.get(User, door.users["owner"].id)
        cid = checkin.scan(
            checkin.open_door(actor, other.id, FIXED_NOW),
            reg.check_in_code,
            actor=actor,
            now=FIXED_NOW,
        ).checkin.id
    login(door.users["owner"])
    response = client.post(f"/checkin/events/{door.event.id}/checkins/{cid}/undo", json={})
    assert response.status_code == 404
    assert checkin_rows(app) == 1


# --- door staff assignment ----------------------------------------------------------


def test_assign_and_remove_staff(app, client, login, door, make_user):
    inactive = make_user(Role.STAFF, name="Staf Nonaktif", active=False)
    login(door.users["owner"])
    url = f"/checkin/events/{door.event.id}/staff"
    page = client.get(url).get_data(as_text=True)
    assert "Rina Petugas" in page  # already assigned, listed
    options = re.findall(r'<option[^>]*value="(\d+)"', page)
    assert options == [str(door.users["staff"].id)]  # active staff not yet assigned only
    assert str(inactive.id) not in options

    response = client.post(url, data={"action": "assign", "user_id": str(door.users["staff"].id)})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Andi Saputra ditugaskan sebagai petugas presensi." in page
    with app.app_context():
        assert {u.name for u in checkin.assigned_staff(door.event.id)} == {
            "Andi Saputra",
            "Rina Petugas",
        }
        assert (
            db.session.scalar(
                sa.select(sa.func.count(AuditLog.id)).where(AuditLog.action == "staff.assign")
            )
            == 2
        )

    client.post("/auth/logout")
    login(door.users["staff"])  # the newly assigned staff member may now open the door
    assert client.get(f"/checkin/events/{door.event.id}").status_code == 200
    client.post("/auth/logout")
    login(door.users["owner"])

    response = client.post(
        url, data={"action": "remove", "user_id": str(door.users["assigned_staff"].id)}
    )
    assert response.status_code == 302
    with app.app_context():
        assert [u.name for u in checkin.assigned_staff(door.event.id)] == ["Andi Saputra"]
    client.post("/auth/logout")
    login(door.users["assigned_staff"])
    assert client.get(f"/checkin/events/{door.event.id}").status_code == 403


def test_a_draft_door_is_unknown_to_who_may_not_see_it(app, client, login, door, make_event):
    """Someone else's draft is a 404 (as in the API), a visible event they may not run
    a 403."""
    draft = make_event(owner=door.users["owner"], status="draft")
    login(door.users["other_organizer"])
    assert client.get(f"/checkin/events/{draft.id}").status_code == 404
    assert (
        client.post(f"/checkin/events/{draft.id}/scan", json={"code": "x" * 43}).status_code == 404
    )
    assert client.get(f"/checkin/events/{door.event.id}").status_code == 403
    client.post("/auth/logout")
    login(door.users["owner"])
    assert client.get(f"/checkin/events/{draft.id}").status_code == 200


@pytest.mark.parametrize("user_id", ["participant", "admin", "inactive", "abc", ""])
def test_assign_refuses_non_staff(app, client, login, door, make_user, user_id):
    inactive = make_user(Role.STAFF, active=False)
    ids = {
        "participant": door.users["participant"].id,
        "admin": door.users["admin"].id,
        "inactive": inactive.id,
    }
    login(door.users["owner"])
    response = client.post(
        f"/checkin/events/{door.event.id}/staff",
        data={"action": "assign", "user_id": str(ids.get(user_id, user_id))},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="user_id-error"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(EventStaff.id))) == 1


# --- throttling unknown codes -------------------------------------------------------


class TestThrottle:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "CHECKIN_NOT_FOUND_LIMIT": "3 per minute"}

    def test_unknown_codes_are_throttled_valid_codes_are_not(self, app, client, login, door):
        with app.app_context():
            limiter.reset()
        login(door.users["assigned_staff"])
        for i in range(3):
            response = scan(client, door, f"unknown-code-{i:02d}-xxxxxxxxxxxx")
            assert response.status_code == 200
            assert response.get_json()["result"] == "not_found"
        fourth = scan(client, door, "unknown-code-99-xxxxxxxxxxxx")
        assert fourth.status_code == 429
        assert fourth.is_json and fourth.get_json()["error"] == "rate_limited"
        # A busy door of real tickets is never slowed, even for this user.
        for label in ("sri", "budi", "ahmad"):
            response = scan(client, door, door.regs[label].check_in_code)
            assert response.status_code == 200
            assert response.get_json()["result"] == "ok"
        assert (
            scan(client, door, door.regs["sri"].check_in_code).get_json()["result"]
            == "already_checked_in"
        )
        assert checkin_rows(app) == 3

    def test_the_limit_is_per_user(self, app, client, login, door):
        with app.app_context():
            limiter.reset()
        login(door.users["assigned_staff"])
        for i in range(4):
            scan(client, door, f"unknown-code-{i:02d}-xxxxxxxxxxxx")
        assert scan(client, door, "another-unknown-code-xxxx").status_code == 429
        client.post("/auth/logout")
        login(door.users["owner"])
        assert scan(client, door, "another-unknown-code-xxxx").status_code == 200


# --- CSRF ---------------------------------------------------------------------------


class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    @staticmethod
    def login_with_token(client, user):
        page = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
            r'name="csrf_token" value="([^"]+)"', page
        )
        response = client.post(
            "/auth/login",
            data={"email": user.email, "password": "rahasia-123", "csrf_token": token.group(1)},
        )
        assert response.status_code == 302

    def test_json_posts_need_the_csrf_header(self, app, client, door):
        self.login_with_token(client, door.users["owner"])
        page = client.get(f"/checkin/events/{door.event.id}").get_data(as_text=True)
        token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page).group(1)
        cid = seed_checkin(app, door, "budi")
        base = f"/checkin/events/{door.event.id}"
        posts = [
            (f"{base}/scan", {"code": door.regs["sri"].check_in_code}),
            (f"{base}/registrations/{door.regs['ahmad'].id}/checkin", {}),
            (f"{base}/checkins/{cid}/undo", {}),
        ]
        for url, body in posts:
            refused = client.post(url, json=body)
            assert refused.status_code == 400, url
            assert refused.is_json and refused.get_json()["error"] == "csrf"
        assert checkin_rows(app) == 1
        for url, body in posts:
            assert client.post(url, json=body, headers={"X-CSRFToken": token}).status_code == 200
        with app.app_context():
            names = set(
                db.session.scalars(
                    sa.select(Registration.name).join(
                        Checkin, Checkin.registration_id == Registration.id
                    )
                )
            )
        assert names == {"Sri Wahyuni, S.E.", "Ahmad Hadir"}

    def test_staff_form_needs_csrf(self, app, client, door):
        self.login_with_token(client, door.users["owner"])
        url = f"/checkin/events/{door.event.id}/staff"
        response = client.post(
            url, data={"action": "assign", "user_id": str(door.users["staff"].id)}
        )
        assert response.status_code in (400, 422)
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count(EventStaff.id))) == 1
