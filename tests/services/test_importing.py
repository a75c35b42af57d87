"""Import of registrations: reading CSV/XLSX, checking every row, applying a batch."""

import io
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from tests.conftest import FIXED_NOW
from workshop.extensions import db
from workshop.models import (
    EventStatus,
    ImportBatch,
    ImportStatus,
    OutgoingMail,
    Registration,
    Role,
    Unit,
    User,
)
from workshop.services import importing
from workshop.services.importing import ImportFileError, Table

TODAY = date(2030, 1, 15)
NIP = "19680411 199303 1 009"
NIP_DIGITS = "196804111993031009"


@pytest.fixture
def app_config(tmp_path):
    return {"MAIL_FILE_DIR": str(tmp_path / "mail")}


def xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def cells(table: Table) -> list[list]:
    return [row for _line, row in table.rows]


def check(app, event_id, text_or_table, today=TODAY):
    with app.app_context():
        table = (
            text_or_table
            if isinstance(text_or_table, Table)
            else importing.read_table("daftar.csv", text_or_table.encode("utf-8"))
        )
        report, _columns = importing.check_rows(event_id, table, today=today)
        return report


# --- reading ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            "\ufeffnama;email\nJosé;j@example.com\n".encode(),
            [["nama", "email"], ["José", "j@example.com"]],
        ),
        (
            "nama,email\nJosé,j@example.com\n".encode("cp1252"),
            [["nama", "email"], ["José", "j@example.com"]],
        ),
        # cp1252's curly quote and euro sign, which latin-1 lacks
        (
            "nama;email\n“Dede” €;d@example.com\n".encode("cp1252"),
            [["nama", "email"], ["“Dede” €", "d@example.com"]],
        ),
        (b"nama\temail\r\nBudi\tb@example.com\r\n", [["nama", "email"], ["Budi", "b@example.com"]]),
        # quoted comma, blank lines skipped
        (
            b'nama,email\n\n"Ir. H. Abdul Najib, MM",n@example.com\n,\n',
            [["nama", "email"], ["Ir. H. Abdul Najib, MM", "n@example.com"]],
        ),
    ],
    ids=["utf8-bom-semicolon", "cp1252-comma", "cp1252-special", "tab", "quoted"],
)
def test_csv_encodings_and_delimiters(data, expected):
    assert cells(importing.read_table("a.csv", data)) == expected


def test_xlsx_is_read_with_numbers_as_text():
    data = xlsx(
        [
            ["Nama", "NIP", "HP"],
            ["Sukarno", 196804111993031009, 81234567890],
            [None, None, None],
            ["Dina", None, None],
        ]
    )
    table = importing.read_table("daftar.xlsx", data)
    assert [line for line, _row in table.rows] == [1, 2, 4]  # the blank row is skipped
    assert cells(table)[1][0] == "Sukarno"
    assert cells(table)[1][2] == 81234567890


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("a.csv", b"", "Berkas kosong."),
        ("a.csv", b"\n \n;;\n", "Berkas tidak berisi data."),
        ("a.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "bukan CSV berbentuk teks"),
        ("a.xlsx", b"nama,email\n", "bukan berkas Excel .xlsx"),
        ("a.xlsx", b"PK\x03\x04 this is not really a zip", "bukan berkas Excel .xlsx"),
        ("a.pdf", b"%PDF-1.4", "Jenis berkas tidak didukung"),
        ("a.xls", b"\xd0\xcf\x11\xe0", "Format .xls (Excel lama) tidak didukung"),
    ],
)
def test_unusable_files_are_refused_with_a_reason(filename, data, message):
    with pytest.raises(ImportFileError) as info:
        importing.read_table(filename, data)
    assert message in info.value.message


def test_a_zip_that_is_not_a_workbook_is_refused():
    out = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ImportFileError, match="bukan berkas Excel"):
        importing.read_table("a.xlsx", out.getvalue())


def test_too_many_rows_is_refused_for_csv_and_xlsx():
    csv_data = ("nama;email\n" + "".join(f"P{i};p{i}@x.id\n" for i in range(4))).encode()
    assert len(importing.read_table("a.csv", csv_data, max_rows=4).rows) == 5
    with pytest.raises(ImportFileError, match="lebih dari 3 baris"):
        importing.read_table("a.csv", csv_data, max_rows=3)
    data = xlsx([["nama", "email"]] + [[f"P{i}", f"p{i}@x.id"] for i in range(4)])
    with pytest.raises(ImportFileError, match="lebih dari 3 baris"):
        importing.read_table("a.xlsx", data, max_rows=3)


# --- checking -------------------------------------------------------------------


def test_missing_required_columns_are_named(app, make_event):
    event = make_event()
    with pytest.raises(ImportFileError) as info:
        check(app, event.id, "nama;telepon\nBudi;0812\n")
    assert "Kolom wajib tidak ditemukan: email, unit kerja atau instansi." in info.value.message
    assert "Judul yang terbaca: nama, telepon." in info.value.message
    with pytest.raises(ImportFileError, match="tanpa baris peserta"):
        check(app, event.id, "nama;email;instansi\n")


def test_indonesian_headers_title_rows_and_aliases(app, make_event, make_unit):
    event = make_event()
    make_unit(name="Badan Perencanaan Pembangunan Daerah", short_name="Bappeda")
    text = (
        "DAFTAR PESERTA WORKSHOP INOVASI;;;;;;;\n"
        ";;;;;;;\n"
        "No.;Nama Lengkap;E-mail;No. HP/WA;NIP;Jabatan;Unit Kerja;Peran\n"
        f"1;Ir. H. Abdul Najib, MM;Najib@Example.com;0812-3456-7890;{NIP};Kepala;bappeda;"
        "Narasumber\n"
    )
    [row] = check(app, event.id, text)
    assert row["status"] == "created", row["errors"]
    assert row["line"] == 4
    data = row["data"]
    assert data["name"] == "Ir. H. Abdul Najib, MM"
    assert data["email"] == "najib@example.com"
    assert data["phone"] == "+6281234567890"
    assert data["nip"] == NIP_DIGITS
    assert data["employment_status"] == "pns"  # inferred from the NIP
    assert data["role"] == "speaker"
    with app.app_context():
        assert db.session.get(Unit, data["unit_id"]).short_name == "Bappeda"


def test_row_statuses(app, make_event, make_unit, person, register):
    event = make_event()
    make_unit(short_name="Diskominfo")
    register(event, person(email="lama@example.com"))
    text = (
        "nama,email,nip,unit,instansi,status kepegawaian\n"
        f"Andi,andi@example.com,{NIP},Diskominfo,,PNS\n"  # 2 created
        "Andi Lagi,ANDI@example.com,,,Pemkab Bogor,\n"  # 3 same email as line 2
        f"Andi Tiga,andi3@example.com,{NIP.replace(' ', '')},DISKOMINFO,,\n"  # 4 same NIP
        "Lama,lama@example.com,,,Pemkot Bandung,non-ASN\n"  # 5 already registered
        "Salah NIP,s@example.com,19681411 199303 1 009,Diskominfo,,PNS\n"  # 6 bad NIP date
        "Unit Asing,u@example.com,,Dinsos,,\n"  # 7 unknown unit
        "Tamu,tamu@example.com,,,Pemerintah Kabupaten Purworejo,\n"  # 8 created (non-ASN)
        "Keduanya,k@example.com,,Diskominfo,Pemkab Bogor,\n"  # 9 unit and institution
        ",tanpa-at,,,GIZ,\n"  # 10 no name, bad email
    )
    report = check(app, event.id, text)
    by_line = {row["line"]: row for row in report}
    assert {line: row["status"] for line, row in by_line.items()} == {
        2: "created",
        3: "duplicate",
        4: "duplicate",
        5: "duplicate",
        6: "invalid",
        7: "invalid",
        8: "created",
        9: "invalid",
        10: "invalid",
    }
    assert "baris 2" in by_line[3]["message"]
    assert "baris 2" in by_line[4]["message"]
    assert "Sudah terdaftar di kegiatan ini" in by_line[5]["message"]
    assert by_line[6]["errors"] == {
        "nip": ["8 digit pertama NIP harus tanggal lahir yang valid (TTTTBBHH)."]
    }
    assert list(by_line[7]["errors"]) == ["unit_id"]
    assert 'Unit kerja "Dinsos" tidak dikenal' in by_line[7]["errors"]["unit_id"][0]
    assert by_line[8]["data"]["employment_status"] == "non_asn"
    assert by_line[8]["data"]["institution"] == "Pemerintah Kabupaten Purworejo"
    assert list(by_line[9]["errors"]) == ["institution"]
    assert set(by_line[10]["errors"]) == {"name", "email"}


def test_an_invalid_first_occurrence_does_not_make_the_second_a_duplicate(app, make_event):
    event = make_event()
    report = check(
        app,
        event.id,
        "nama;email;instansi;telepon\n"
        "Budi;b@example.com;GIZ;0812-ABCD\n"
        "Budi;b@example.com;GIZ;0812-3456-7890\n",
    )
    assert [r["status"] for r in report] == ["invalid", "created"]


def test_rows_with_missing_or_extra_cells_are_invalid(app, make_event):
    event = make_event()
    report = check(
        app,
        event.id,
        "nama,email,instansi,jabatan\n"
        "Budi,b@example.com\n"
        "Ir. H. Abdul Najib, MM,n@example.com,Bappeda,Kepala\n"
        "Sari,s@example.com,GIZ,Staf,,\n",
    )
    assert [r["status"] for r in report] == ["invalid", "invalid", "created"]
    assert "hanya berisi 2 dari 4 kolom" in report[0]["errors"]["row"][0]
    assert "lebih banyak kolom" in report[1]["errors"]["row"][0]


def test_combined_unit_or_institution_column(app, make_event, make_unit):
    event = make_event()
    unit = make_unit(name="Dinas Komunikasi dan Informatika", short_name="Diskominfo")
    report = check(
        app,
        event.id,
        "nama;email;unit kerja/instansi\n"
        "A;a@example.com;Diskominfo\n"
        "B;b@example.com;dinas komunikasi dan informatika\n"
        "C;c@example.com;Pemerintah Kabupaten Bandung\n",
    )
    assert [r["data"]["unit_id"] for r in report] == [unit.id, unit.id, None]
    assert report[2]["data"]["institution"] == "Pemerintah Kabupaten Bandung"


def test_inactive_unit_is_named(app, make_event, make_unit):
    event = make_event()
    make_unit(short_name="Lama", active=False)
    [row] = check(app, event.id, "nama;email;unit\nA;a@example.com;lama\n")
    assert row["errors"] == {"unit_id": ['Unit kerja "lama" sudah tidak aktif.']}


def test_employment_status_and_role_words(app, make_event):
    event = make_event()
    report = check(
        app,
        event.id,
        "nama;email;instansi;status kepegawaian;nip;peran\n"
        "A;a@example.com;X;P3K;123456789012345678;Panitia\n"
        "B;b@example.com;X;Honorer;;\n"
        "C;c@example.com;X;Tentara;;Tamu VIP\n",
    )
    assert report[0]["data"]["employment_status"] == "pppk"
    assert report[0]["data"]["role"] == "committee"
    assert report[1]["data"]["employment_status"] == "non_asn"
    assert report[1]["data"]["role"] == "participant"
    assert set(report[2]["errors"]) == {"employment_status", "role"}


def test_excel_number_cells(app, make_event):
    """Excel keeps 15 digits of a number: an 18-digit NIP typed as a number is broken, and
    a phone typed as a number lost its leading zero."""
    event = make_event()
    data = xlsx(
        [
            ["nama", "email", "instansi", "nip", "hp"],
            ["A", "a@example.com", "X", 1.96804111993031e17, 81234567890],
            ["B", "b@example.com", "X", int(NIP_DIGITS), None],
            ["C", "c@example.com", "X", NIP_DIGITS, None],
        ]
    )
    with app.app_context():
        report, _ = importing.check_rows(
            event.id, importing.read_table("a.xlsx", data), today=TODAY
        )
    assert "Format kolom NIP sebagai Teks" in report[0]["errors"]["nip"][0]
    assert len(report[0]["errors"]["nip"]) == 1
    assert report[0]["values"]["phone"] == "81234567890"
    assert "Format kolom NIP sebagai Teks" in report[1]["errors"]["nip"][0]
    assert report[2]["status"] == "created"
    assert report[2]["data"]["nip"] == NIP_DIGITS


def test_checking_uses_a_constant_number_of_queries(app, make_event, make_unit):
    event = make_event()
    units = [make_unit() for _ in range(5)]
    lines = ["nama;email;unit;hp"] + [
        f"P {i};p{i}@example.com;{units[i % 5].short_name};0812-3456-{i:04d}" for i in range(300)
    ]
    statements = []
    with app.app_context():
        sa.event.listen(
            db.engine, "before_cursor_execute", lambda *args: statements.append(args[2])
        )
        table = importing.read_table("a.csv", "\n".join(lines).encode())
        report, _ = importing.check_rows(event.id, table, today=TODAY)
    assert {r["status"] for r in report} == {"created"}
    assert len(statements) <= 5


# --- applying ------------------------------------------------------------------


def make_batch(app, event, text, actor):
    with app.app_context():
        batch, _ignored = importing.create_batch(
            event.id, filename="daftar.csv", data=text.encode(), actor=actor, now=FIXED_NOW
        )
        db.session.commit()
        return batch.id


def registered(app, event):
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Registration.email)
                .where(Registration.event_id == event.id)
                .order_by(Registration.id)
            )
        )


def test_apply_registers_the_valid_rows_in_order_and_only_once(app, make_event, make_user):
    owner = make_user(Role.ORGANIZER)
    event = make_event(owner=owner, capacity=2)
    batch_id = make_batch(
        app, event, "nama;email;instansi\nA;a@x.id;GIZ\nB;;GIZ\nC;c@x.id;GIZ\nD;d@x.id;GIZ\n", owner
    )
    with app.app_context():
        actor = db.session.get(User, owner.id)
        batch, mail_ids = importing.apply_batch(batch_id, now=FIXED_NOW, actor=actor)
        counts = importing.summary(batch)
        assert batch.status == ImportStatus.APPLIED
        results = [(r["line"], r.get("result")) for r in batch.rows]
        with pytest.raises(importing.BatchNotPending):
            importing.apply_batch(batch_id, now=FIXED_NOW, actor=actor)
    assert counts["confirmed"] == 2 and counts["waitlisted"] == 1 and counts["invalid"] == 1
    with app.app_context():  # queued with the registrations, left for the caller to send
        queued = db.session.execute(
            sa.select(OutgoingMail.to, OutgoingMail.kind, OutgoingMail.status)
            .where(OutgoingMail.id.in_(mail_ids))
            .order_by(OutgoingMail.id)
        )
        assert [tuple(map(str, row)) for row in queued] == [
            ("a@x.id", "registration.confirmed", "pending"),
            ("c@x.id", "registration.confirmed", "pending"),
            ("d@x.id", "registration.waitlisted", "pending"),
        ]
    assert results == [(2, "confirmed"), (3, None), (4, "confirmed"), (5, "waitlisted")]
    assert registered(app, event) == ["a@x.id", "c@x.id", "d@x.id"]


def test_apply_reports_rows_refused_now(app, make_event, make_user, make_unit, person, register):
    """Between the report and the confirmation a unit was closed and someone registered."""
    owner = make_user(Role.ORGANIZER)
    event = make_event(owner=owner, capacity=10, waitlist=False)
    unit = make_unit(short_name="Dinkes")
    batch_id = make_batch(
        app,
        event,
        "nama;email;unit;instansi\nA;a@x.id;Dinkes;\nB;b@x.id;;GIZ\nC;c@x.id;;GIZ\n",
        owner,
    )
    register(event, person(email="b@x.id"))
    with app.app_context():
        db.session.get(Unit, unit.id).active = False
        db.session.commit()
        batch, _mails = importing.apply_batch(
            batch_id, now=FIXED_NOW, actor=db.session.get(User, owner.id)
        )
        results = [(r.get("result"), r.get("message", "")) for r in batch.rows]
    assert results[0] == ("refused", "Unit kerja tidak dikenal.")
    assert results[1][0] == "refused" and "sudah terdaftar" in results[1][1]
    assert results[2][0] == "confirmed"
    assert registered(app, event) == ["b@x.id", "c@x.id"]


def test_apply_to_a_cancelled_event_imports_nothing_and_keeps_the_batch(app, make_event, make_user):
    owner = make_user(Role.ORGANIZER)
    event = make_event(owner=owner)
    batch_id = make_batch(app, event, "nama;email;instansi\nA;a@x.id;GIZ\n", owner)
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE event SET status = :s WHERE id = :i"),
            {"s": EventStatus.CANCELLED.value, "i": event.id},
        )
        db.session.commit()
        with pytest.raises(importing.DomainError, match="Pendaftaran ditutup"):
            importing.apply_batch(batch_id, now=FIXED_NOW, actor=db.session.get(User, owner.id))
        assert db.session.get(ImportBatch, batch_id).status == ImportStatus.PENDING
    assert registered(app, event) == []


def test_cancel_batch(app, make_event, make_user):
    owner = make_user(Role.ORGANIZER)
    event = make_event(owner=owner)
    batch_id = make_batch(app, event, "nama;email;instansi\nA;a@x.id;GIZ\n", owner)
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        assert importing.cancel_batch(batch) is True
        db.session.commit()
        assert importing.cancel_batch(batch) is False
        with pytest.raises(importing.BatchNotPending):
            importing.apply_batch(batch_id, now=FIXED_NOW, actor=db.session.get(User, owner.id))
    assert registered(app, event) == []


def test_template_csv_is_readable_by_the_importer(app, make_event, make_unit):
    event = make_event()
    make_unit(short_name="Bappeda")
    with app.app_context():
        table = importing.read_table("contoh.csv", importing.template_csv())
        report, _ = importing.check_rows(event.id, table, today=TODAY)
    assert [r["status"] for r in report] == ["created", "created"], [r["errors"] for r in report]
