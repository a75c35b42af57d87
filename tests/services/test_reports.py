"""The report services: event numbers, attendance lists, exports (formula neutralising,
types), the daftar hadir PDF layout, JP recaps, the per-unit report, calendar files and
the SVG charts."""

import csv
import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.conftest import FIXED_NOW
from workshop.extensions import db
from workshop.models import (
    Certificate,
    Checkin,
    CheckinMethod,
    Event,
    EventDay,
    EventStatus,
    Registration,
    Role,
    User,
)
from workshop.reports import charts
from workshop.services import calendar, exports, jp_recap, reports
from workshop.services.attendance_pdf import (
    LABELS_ID,
    AttendanceLine,
    AttendanceSheet,
    Signature,
    render_attendance_pdf,
)
from workshop.services.errors import ValidationError
from workshop.timeutil import WIB

START = datetime(2030, 1, 8, 8, 0, tzinfo=WIB)


def at(day: date, hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=WIB)


@pytest.fixture
def enrol(register):
    def do(event, data):
        return register(event, data, send_mail=False).registration

    return do


def check_in(app, reg_id: int, when: datetime) -> None:
    with app.app_context():
        reg = db.session.get(Registration, reg_id)
        day = db.session.scalar(
            sa.select(EventDay).where(
                EventDay.event_id == reg.event_id, EventDay.date == when.astimezone(WIB).date()
            )
        )
        db.session.add(
            Checkin(
                registration_id=reg.id,
                event_day_id=day.id,
                event_id=reg.event_id,
                method=CheckinMethod.SEARCH,
                checked_in_at=when,
            )
        )
        db.session.commit()


def two_day_event(make_event, **fields):
    return make_event(starts_at=START, ends_at=START + timedelta(days=1, hours=8), **fields)


# --- one event -----------------------------------------------------------------------------


def test_event_report_counts_bins_and_units(app, make_event, make_unit, person, enrol):
    bappeda = make_unit(name="Badan Perencanaan Pembangunan Daerah", short_name="Bappeda")
    dinkes = make_unit(name="Dinas Kesehatan", short_name="Dinkes")
    make_unit(name="Dinas Lama", short_name="Lama", active=False)
    event = two_day_event(make_event, unit_quota=5)
    a = enrol(event, person(unit=bappeda, name="Ani"))
    b = enrol(event, person(unit=bappeda, name="Budi"))
    guest = enrol(event, person(name="Tamu"))
    day1 = date(2030, 1, 8)
    for reg, hhmm in ((a, "07:58"), (b, "08:03"), (guest, "08:14")):
        check_in(app, reg.id, at(day1, hhmm))
    check_in(app, a.id, at(date(2030, 1, 9), "08:00"))
    with app.app_context():
        report = reports.event_report(db.session.get(Event, event.id))
    assert report.counts == {"confirmed": 3, "waitlisted": 0, "cancelled": 0}
    assert [d.checked_in for d in report.days] == [3, 1]
    assert [(t.strftime("%H.%M"), n) for t, n in report.days[0].arrivals] == [
        ("07.55", 1),
        ("08.00", 1),
        ("08.05", 0),
        ("08.10", 1),
    ]
    assert str(report.days[0].arrivals[0][0].tzinfo) == "Asia/Jakarta"
    assert report.attended == 3
    rows = [(u.short_name, u.quota, u.registered, u.days, u.attended) for u in report.units]
    assert rows == [("Bappeda", 5, 2, [2, 1], 2), ("Instansi lain", None, 1, [1, 0], 1)]
    assert report.units[0].rate == 1.0
    assert [u.short_name for u in report.units_without_registrations] == ["Dinkes"]
    assert dinkes.id not in [u.unit_id for u in report.units]
    assert report.units_without_attendance == []


def test_attendance_list_by_name_and_blank_list(app, make_event, person, enrol):
    event = two_day_event(make_event, capacity=3)
    names = ["budi", "Ani", "Çelik", "Zaki"]  # the fourth waits
    regs = [enrol(event, person(name=n)) for n in names]
    assert regs[3].status == "waitlisted"
    check_in(app, regs[0].id, at(date(2030, 1, 8), "08:10"))
    check_in(app, regs[1].id, at(date(2030, 1, 8), "07:50"))
    with app.app_context():
        event_ = db.session.get(Event, event.id)
        day = reports.day_of(event_, "2030-01-08")
        present = reports.attendance_list(event_, day)
        blank = reports.attendance_list(event_, day, blank=True)
        assert reports.day_of(event_, None).date == date(2030, 1, 8)
        assert reports.day_of(event_, "2030-01-07") is None
        assert reports.day_of(event_, "8/1/2030") is None
    assert [p.name for p in present] == ["Ani", "budi"]
    assert [p.checkins[0].astimezone(WIB).strftime("%H.%M") for p in present] == ["07.50", "08.10"]
    assert [p.name for p in blank] == ["Ani", "budi", "Çelik"]
    assert all(p.checkins == [None] for p in blank)


def test_format_nip_and_phone():
    assert reports.format_nip("196804111993031009", "pns") == "19680411 199303 1 009"
    assert reports.format_nip("123456789012345678", "pppk") == "123456789012345678"
    assert reports.format_nip(None) == ""
    assert reports.local_phone("+6281234567890") == "081234567890"
    assert reports.local_phone(None) == ""


# --- exports ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+62812", "'+62812"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Siti O'Brien", "Siti O'Brien"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise(text, expected):
    assert exports.neutralise(text) == expected


def test_write_xlsx_types_widths_and_frozen_header():
    columns = [
        exports.Column("No", exports.INT, 6),
        exports.Column("Nama"),
        exports.Column("Hadir", exports.TIME),
        exports.Column("Daftar", exports.DATETIME),
    ]
    rows = [
        [1, "=cmd|' /C calc'!A0", datetime(2030, 1, 8, 0, 41, tzinfo=UTC), None],
        [2, "Nguyễn Thị Minh Khai", None, datetime(2030, 1, 1, 10, 0)],
    ]
    data = exports.write_xlsx([exports.Sheet("Ringkasan", columns, rows)])
    sheet = load_workbook(io.BytesIO(data))["Ringkasan"]
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.b
    assert sheet["A2"].value == 1 and sheet["A2"].data_type == "n"
    assert sheet["B2"].value == "'=cmd|' /C calc'!A0" and sheet["B2"].data_type == "s"
    assert sheet["C2"].value == datetime(2030, 1, 8, 7, 41)  # 00.41 UTC = 07.41 WIB
    assert sheet["C2"].is_date and sheet["C2"].number_format == "hh:mm"
    assert sheet["D3"].number_format == "dd/mm/yyyy hh:mm"
    assert sheet["B3"].value == "Nguyễn Thị Minh Khai"
    assert sheet.column_dimensions["A"].width == 6
    assert 20 <= sheet.column_dimensions["B"].width <= 60
    assert sheet.auto_filter.ref == "A1:D3"


def test_write_csv_bom_and_values():
    columns = [
        exports.Column("Nama"),
        exports.Column("Jam", exports.TIME),
        exports.Column("Hari", exports.INT),
    ]
    data = exports.write_csv(
        columns,
        [['Ahmad "Kiki", S.E.', datetime(2030, 1, 8, 1, 0, tzinfo=UTC), 2], ["+62 Budi", None, 0]],
    )
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    assert list(csv.reader(io.StringIO(text))) == [
        ["Nama", "Jam", "Hari"],
        ['Ahmad "Kiki", S.E.', "2030-01-08 08:00", "2"],
        ["'+62 Budi", "", "0"],
    ]


# --- the daftar hadir PDF ------------------------------------------------------------------


def sheet_of(n: int, blank: bool = False) -> AttendanceSheet:
    lines = [
        AttendanceLine(
            f"Peserta Nomor {i:04d}",
            "19680411 199303 1 009",
            "Analis Kebijakan Ahli Muda",
            "Badan Perencanaan Pembangunan Daerah",
            "" if blank else "08.12",
        )
        for i in range(1, n + 1)
    ]
    return AttendanceSheet(
        organization="Pemerintah Kabupaten Muara Enim",
        unit="Bagian Organisasi Sekretariat Daerah",
        event_title="Workshop Inovasi Pelayanan Publik",
        day_text="Kamis, 8 Maret 2018",
        venue="Ruang Rapat Pangripta (Nusantara), Bappeda Kabupaten Muara Enim",
        lines=lines,
        signature=Signature(
            "Muara Enim, 8 Maret 2018",
            "Kepala Bagian Organisasi,",
            "Ahmad Fauzi, S.Sos.",
            "NIP. 19680411 199303 1 009",
        ),
        labels=LABELS_ID,
        blank=blank,
    )


def test_500_person_list_spans_pages_with_the_header_on_each():
    data = render_attendance_pdf(sheet_of(500))
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]
    total = len(pages)
    assert total > 10
    text = "\n".join(pages)
    for number, page in enumerate(pages, start=1):
        assert f"Halaman {number} dari {total}" in page
        for header in ("No", "Nama", "NIP", "Jabatan", "Unit Kerja/Instansi", "Tanda Tangan"):
            assert header in page, (number, header)
    for i in range(1, 501):
        assert text.count(f"Peserta Nomor {i:04d}") == 1, i
    assert pages[0].count("DAFTAR HADIR PESERTA") == 1
    assert "PEMERINTAH KABUPATEN MUARA ENIM" in pages[0]
    assert "PEMERINTAH KABUPATEN MUARA ENIM" not in pages[1]  # the letterhead once
    assert "Ahmad Fauzi, S.Sos." in pages[-1] and "Muara Enim, 8 Maret 2018" in pages[-1]
    # odd rows sign on the left half, even rows on the right: every number once
    marks = [int(m) for m in re.findall(r"(\d+)\. \.{6,}", text)]
    assert sorted(marks) == list(range(1, 501))


def test_pdf_embeds_its_fonts():
    data = render_attendance_pdf(sheet_of(3))
    reader = PdfReader(io.BytesIO(data))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = (
                font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                if "/DescendantFonts" in font
                else font.get("/FontDescriptor")
            )
            if descriptor is not None:
                fonts.add(("/FontFile2" in descriptor.get_object(), str(font["/BaseFont"])))
    assert fonts and all(embedded for embedded, _ in fonts)


LONG_NAME = (
    "Prof. Dr. Ir. Raden Mas Bagus Hadikusumo Wiryoatmojo Suryaningrat "
    "Kusumawardhana, S.T., M.T., M.Sc., Ph.D."
)
LONG_UNIT = "Dinas Pemberdayaan Masyarakat dan Desa, Kependudukan dan Pencatatan Sipil"
HEADERS = ("No", "Nama", "NIP", "Jabatan", "Unit Kerja/Instansi", "Tanda Tangan")


def marks_of(text: str) -> list[int]:
    return [int(m) for m in re.findall(r"(\d+)\. \.{6,}", text)]


def test_long_texts_wrap_whole_and_the_last_rows_keep_their_header():
    sheet = sheet_of(24)
    sheet.lines[4] = replace(sheet.lines[4], name=LONG_NAME, affiliation=LONG_UNIT)
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(render_attendance_pdf(sheet))).pages]
    flat = " ".join(" ".join(pages).split())
    assert LONG_NAME in flat and LONG_UNIT in flat  # wrapped over several lines, never cut
    assert max(len(line) for line in pages[0].splitlines()) < len(LONG_NAME)
    assert sorted(marks_of(flat)) == list(range(1, 25))
    # The signature does not fit under row 24: the last two rows go with it, headed.
    assert marks_of(pages[-1]) == [23, 24]
    assert all(header in pages[-1] for header in HEADERS)
    assert "Ahmad Fauzi, S.Sos." in pages[-1]
    assert f"Halaman {len(pages)} dari {len(pages)}" in pages[-1]


def test_empty_list_has_its_header_a_note_and_the_signature():
    pages = [
        p.extract_text() for p in PdfReader(io.BytesIO(render_attendance_pdf(sheet_of(0)))).pages
    ]
    assert len(pages) == 1
    assert all(header in pages[0] for header in HEADERS)
    assert "Belum ada peserta yang hadir." in pages[0]
    assert "Ahmad Fauzi, S.Sos." in pages[0] and "Halaman 1 dari 1" in pages[0]
    assert marks_of(pages[0]) == []


# --- JP recap and the per-unit report ---------------------------------------------------------


def give_certificate(app, reg_id: int, hours: int, *, revoked: bool = False, seq: int = 1):
    with app.app_context():
        reg = db.session.get(Registration, reg_id)
        db.session.add(
            Certificate(
                event_id=reg.event_id,
                registration_id=reg.id,
                sequence=seq,
                number=f"{seq:03d}/SERT/{reg.event_id}",
                role="participant",
                hours=hours,
                issued_at=FIXED_NOW,
                revoked_at=FIXED_NOW if revoked else None,
            )
        )
        db.session.commit()


NIP = "19680411 199303 1 009"


def test_recap_matches_by_nip_across_emails_and_by_email_without_nip(
    app, make_event, make_unit, make_user, person, enrol
):
    unit = make_unit()
    events = [
        make_event(starts_at=START + timedelta(days=d), title=f"Kegiatan {d}") for d in (0, 10, 400)
    ]
    user = make_user(Role.PARTICIPANT, email="siti@example.com", nip="196804111993031009")
    mine = [
        enrol(
            events[0], person(unit=unit, email="siti@example.com", employment_status="pns", nip=NIP)
        ),
        enrol(
            events[1],
            person(unit=unit, email="siti.lama@example.com", employment_status="pns", nip=NIP),
        ),  # another email
        enrol(events[2], person(unit=unit, email="siti@example.com")),  # no NIP that time
    ]
    other = enrol(events[1], person(unit=unit, email="siti@example.com.au"))
    for reg in (*mine, other):
        check_in(app, reg.id, reg_start(app, reg.id))
    give_certificate(app, mine[0].id, 8)
    give_certificate(app, mine[1].id, 16, revoked=True)
    give_certificate(app, mine[2].id, 24)
    with app.app_context():
        years = jp_recap.recap(jp_recap.user_filter(db.session.get(User, user.id)))
        by_nip = jp_recap.recap(jp_recap.person_filter("196804111993031009", None))
        by_email = jp_recap.recap(jp_recap.person_filter(None, "siti@example.com"))
    assert [(y.year, y.total, [r.title for r in y.rows]) for y in years] == [
        (2031, 24, ["Kegiatan 400"]),
        (2030, 8, ["Kegiatan 0", "Kegiatan 10"]),
    ]
    assert years[1].rows[1].certificate_number is None  # revoked: no JP, still attended
    assert years[1].below_target and not years[0].below_target
    assert [(y.year, y.total) for y in by_nip] == [(2030, 8)]
    assert [(y.year, y.total) for y in by_email] == [(2031, 24)]


def reg_start(app, reg_id: int) -> datetime:
    with app.app_context():
        return db.session.get(Registration, reg_id).event.starts_at


def test_unit_year_lists_people_under_20_jp(app, make_event, make_unit, person, enrol):
    bappeda, other = make_unit(), make_unit()
    first = make_event(starts_at=START)
    second = make_event(starts_at=START + timedelta(days=30))
    ani = enrol(first, person(unit=bappeda, name="Ani", employment_status="pns", nip=NIP))
    budi = enrol(first, person(unit=bappeda, name="Budi"))
    # Ani moved to another unit: her JP there still count for her.
    ani2 = enrol(second, person(unit=other, name="Ani", employment_status="pns", nip=NIP))
    for reg in (ani, budi, ani2):
        check_in(app, reg.id, reg_start(app, reg.id))
    give_certificate(app, ani.id, 12)
    give_certificate(app, ani2.id, 10)
    give_certificate(app, budi.id, 6, seq=2)
    with app.app_context():
        rows = jp_recap.unit_year(bappeda.id, 2030)
        assert jp_recap.unit_year(bappeda.id, 2031) == []
    assert [(r.person.name, r.jp, r.events_attended, r.below_target) for r in rows] == [
        ("Budi", 6, 1, True),
        ("Ani", 22, 2, False),
    ]


def test_find_people(app, make_event, make_unit, person, enrol):
    event = make_event()
    enrol(event, person(name="Siti O'Brien", employment_status="pns", nip=NIP))
    enrol(event, person(name="100% Persen"))
    with app.app_context():
        assert [p.name for p in jp_recap.find_people("o'brien")] == ["Siti O'Brien"]
        assert [p.nip for p in jp_recap.find_people("1993 0310")] == ["196804111993031009"]
        assert [p.name for p in jp_recap.find_people("0%")] == ["100% Persen"]
        assert jp_recap.find_people("%") == []  # too short
        assert jp_recap.find_people("_e") == []  # "_" is a literal, not a wildcard


def test_unit_period_report_counts_by_wib_day_and_skips_drafts(
    app, make_event, make_unit, person, enrol
):
    unit = make_unit(name="Badan A", short_name="A")
    make_unit(name="Badan B", short_name="B")
    # 00.30 WIB on 1 February is still 31 January in UTC: it belongs to February.
    feb = make_event(
        starts_at=datetime(2030, 2, 1, 0, 30, tzinfo=WIB),
        ends_at=datetime(2030, 2, 1, 10, 0, tzinfo=WIB),
    )
    draft = make_event(
        status=EventStatus.DRAFT,
        starts_at=datetime(2030, 2, 3, 8, tzinfo=WIB),
        ends_at=datetime(2030, 2, 3, 10, tzinfo=WIB),
    )
    ani = enrol(feb, person(unit=unit, employment_status="pns", nip=NIP))
    enrol(feb, person(unit=unit))
    enrol(draft, person(unit=unit))
    check_in(app, ani.id, datetime(2030, 2, 1, 8, 0, tzinfo=WIB))
    give_certificate(app, ani.id, 6)
    with app.app_context():
        january = reports.unit_period_report(date(2030, 1, 1), date(2030, 1, 31))
        february = reports.unit_period_report(date(2030, 2, 1), date(2030, 2, 28))
    assert [(r.short_name, r.events_registered) for r in january] == [("A", 0), ("B", 0)]
    row = february[0]
    assert (
        row.short_name,
        row.events_registered,
        row.events_attended,
        row.people_registered,
        row.people_attended,
        row.jp_total,
    ) == ("A", 1, 1, 2, 1, 6)


@pytest.mark.parametrize(
    ("first", "last", "fields"),
    [
        ("", "2030-01-01", {"from"}),
        ("2030-01-01", None, {"to"}),
        ("1/1/2030", "x", {"from", "to"}),
        ("2030-02-01", "2030-01-31", {"to"}),
        ("2020-01-01", "2030-01-01", {"to"}),
    ],
)
def test_parse_period_errors(first, last, fields):
    with pytest.raises(ValidationError) as caught:
        reports.parse_period(first, last)
    assert set(caught.value.fields) == fields


def test_parse_period():
    assert reports.parse_period(" 2030-01-01 ", "2030-12-31") == (
        date(2030, 1, 1),
        date(2030, 12, 31),
    )


# --- calendar ---------------------------------------------------------------------------------


def test_ics_one_entry_per_day_in_jakarta_time(app, make_event):
    event = two_day_event(make_event, description="Pembukaan; materi, diskusi\nBaris dua")
    with app.app_context(), app.test_request_context():
        event_ = db.session.get(Event, event.id)
        items = calendar.entries(event_, url="https://contoh.go.id/events/1", domain="contoh")
        data = calendar.render_ics(items, now=FIXED_NOW)
    cal = Calendar.from_ical(data)
    events = cal.walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [
        f"event-{event.id}-20300108@contoh",
        f"event-{event.id}-20300109@contoh",
    ]
    starts = [e.decoded("DTSTART") for e in events]
    assert [str(s.tzinfo) for s in starts] == ["Asia/Jakarta", "Asia/Jakarta"]
    assert [(s.day, s.hour) for s in starts] == [(8, 8), (9, 8)]
    assert [e.decoded("DTEND").hour for e in events] == [16, 16]
    assert str(events[0]["DESCRIPTION"]).startswith("Pembukaan; materi, diskusi\nBaris dua")
    assert str(cal.walk("VTIMEZONE")[0]["TZID"]) == "Asia/Jakarta"
    assert events[0].decoded("DTSTAMP") == FIXED_NOW


def test_ics_single_block_for_overnight_event(app, make_event):
    event = make_event(
        starts_at=datetime(2030, 1, 8, 19, 0, tzinfo=WIB),
        ends_at=datetime(2030, 1, 9, 2, 0, tzinfo=WIB),
        status=EventStatus.CANCELLED,
    )
    with app.app_context():
        items = calendar.entries(db.session.get(Event, event.id), url="u", domain="d")
    assert len(items) == 1 and items[0].uid == f"event-{event.id}@d"
    assert items[0].cancelled


# --- charts -----------------------------------------------------------------------------------


def test_charts_escape_text_and_describe_themselves():
    svg = charts.units_chart(
        "u",
        [{"label": "<script>x</script>", "registered": 3, "attended": 1, "quota": 2}],
        title="A & B",
        desc='"quoted"',
        legend={"registered": "T", "attended": "H", "quota": "<K>"},
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert '<title id="u-title">A &amp; B</title>' in svg
    assert 'role="img"' in svg and 'aria-labelledby="u-title u-desc"' in svg
    assert ">1/3<" in svg
    bins = [
        (datetime(2030, 1, 8, 7, 40, tzinfo=WIB), 2),
        (datetime(2030, 1, 8, 7, 45, tzinfo=WIB), 0),
    ]
    svg = charts.arrivals_chart("a", bins, title="t", desc="d")
    assert svg.count("<rect") == 1 and ">07.40<" in svg


@pytest.mark.parametrize(
    ("peak", "expected"),
    [(0, (4, 1)), (3, (4, 1)), (9, (10, 5)), (37, (40, 10)), (1600, (2000, 500))],
)
def test_nice_axis(peak, expected):
    assert charts._nice_max(peak) == expected
