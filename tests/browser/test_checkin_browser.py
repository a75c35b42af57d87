"""The real check-in page in Chromium: camera scan of a real ticket QR, a handheld scanner
typing into the field, and a check-in through the name search."""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.browser.conftest import write_y4m
from tests.conftest import PASSWORD
from workshop.extensions import db
from workshop.models import Checkin, CheckinMethod, Event, Role, User
from workshop.services import checkin, qr
from workshop.timeutil import WIB

pytestmark = pytest.mark.browser

DAY1 = datetime(2030, 1, 15, 8, 0, tzinfo=WIB)  # FIXED_NOW (09.00 WIB) falls on this day
TIMEOUT = 10_000  # ms: generous for a busy CI machine; a passing run takes well under 1 s


@pytest.fixture
def door(app, make_event, make_user, make_unit, person, register):
    """An event running today, a staff member assigned to it, and one confirmed person."""
    owner = make_user(Role.ORGANIZER)
    staff = make_user(Role.STAFF, name="Andi Saputra")
    unit = make_unit(name="Dinas Komunikasi dan Informatika", short_name="Diskominfo")
    event = make_event(owner=owner, starts_at=DAY1, ends_at=DAY1 + timedelta(hours=8))
    with app.app_context():
        checkin.assign_staff(
            db.session.get(Event, event.id),
            db.session.get(User, staff.id),
            db.session.get(User, owner.id),
        )
        db.session.commit()
    reg = register(event, person(name="Sri Wahyuni, S.E.", unit=unit), send_mail=False).registration
    return event, staff, reg


def stored_checkins(app) -> list[tuple[int, str, int]]:
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                sa.select(Checkin.registration_id, Checkin.method, Checkin.scanned_by_id)
            )
        ]


def open_door(page, live_server, staff, event):
    """Log in through the real form, then open the event's check-in page."""
    from playwright.sync_api import expect

    page.goto(f"{live_server}/auth/login")
    page.fill("#email", staff.email)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(lambda url: "/auth/login" not in url, timeout=TIMEOUT)
    page.goto(f"{live_server}/checkin/events/{event.id}")
    expect(page.get_by_role("heading", name=event.title)).to_be_visible()


def test_camera_scan_of_a_ticket_qr(app, live_server, launch_browser, door, tmp_path):
    from playwright.sync_api import expect

    event, staff, reg = door
    video = write_y4m(qr.png(reg.check_in_code), tmp_path / "ticket.y4m")
    browser = launch_browser(
        [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ]
    )
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    open_door(page, live_server, staff, event)

    toggle = page.locator("#camera-toggle")
    if toggle.get_attribute("aria-pressed") != "true":
        toggle.click()  # start the camera if the page did not start it by itself
    last = page.locator("#last-result")
    expect(last).to_have_attribute("data-result", "ok", timeout=TIMEOUT)
    expect(last).to_contain_text("Sri Wahyuni, S.E.")
    expect(last).to_contain_text("Berhasil hadir")
    banner = page.locator("#scan-result")
    expect(page.locator("#scan-announce")).to_contain_text("Sri Wahyuni, S.E.")
    assert banner.get_attribute("data-result") == "ok"
    assert stored_checkins(app) == [(reg.id, CheckinMethod.CAMERA, staff.id)]
    # Today's counter follows without a reload.
    expect(page.locator('.checkin-counter [data-stat="checked_in"]')).to_have_text("1")
    assert errors == []
    context.close()


def test_handheld_scanner_types_the_code_and_enter(
    app, live_server, browser_page, door, person, register
):
    from playwright.sync_api import expect

    event, staff, reg = door
    page = browser_page
    open_door(page, live_server, staff, event)
    field = page.get_by_label("Kode tiket (pemindai genggam)")
    expect(field).to_be_focused()  # on a laptop the field is ready for the scanner
    field.press_sequentially(reg.check_in_code)
    field.press("Enter")
    last = page.locator("#last-result")
    expect(last).to_have_attribute("data-result", "ok", timeout=TIMEOUT)
    expect(last).to_contain_text("Sri Wahyuni, S.E.")
    expect(field).to_have_value("")
    expect(field).to_be_focused()  # ready for the next person
    assert stored_checkins(app) == [(reg.id, CheckinMethod.SCANNER, staff.id)]

    # Another site's QR: a clear red answer, nothing recorded.
    field.fill("https://example.com/promo")
    field.press("Enter")
    expect(last).to_have_attribute("data-result", "not_found", timeout=TIMEOUT)
    expect(last).to_contain_text("Kode tidak dikenal")
    expect(page.locator("#recent-list")).to_contain_text("Sri Wahyuni, S.E.")
    assert len(stored_checkins(app)) == 1

    # The scanner fires while the cursor is still in the search box: still a check-in.
    second = register(event, person(name="Budi Santoso"), send_mail=False).registration
    search = page.get_by_label("Cari nama, NIP, atau unit kerja")
    search.fill(second.check_in_code)
    search.press("Enter")
    expect(last).to_have_attribute("data-result", "ok", timeout=TIMEOUT)
    expect(last).to_contain_text("Budi Santoso")
    expect(search).to_have_value("")
    assert len(stored_checkins(app)) == 2


def test_name_search_and_hadir_button(app, live_server, browser_page, door):
    from playwright.sync_api import expect

    event, staff, reg = door
    page = browser_page
    open_door(page, live_server, staff, event)
    page.get_by_label("Cari nama, NIP, atau unit kerja").fill("wahyu")
    result = page.locator("#search-results li", has_text="Sri Wahyuni, S.E.")
    expect(result).to_be_visible(timeout=TIMEOUT)
    result.get_by_role("button", name="Catat hadir: Sri Wahyuni, S.E.").click()
    last = page.locator("#last-result")
    expect(last).to_have_attribute("data-result", "ok", timeout=TIMEOUT)
    expect(result).to_contain_text("Sudah hadir 09.00 WIB")
    assert stored_checkins(app) == [(reg.id, CheckinMethod.SEARCH, staff.id)]
