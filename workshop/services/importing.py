"""Importing registrations from a CSV or XLSX list: read, check every row, then apply.

The organizer uploads a file; ``read_table`` turns it into rows of text (CSV in UTF-8,
with or without BOM, or the cp1252/latin-1 that Excel writes in Indonesian offices,
separated by commas or semicolons; XLSX through openpyxl). ``create_batch`` checks every
row (the registration rules, the unit's short name, duplicates within the file and
against the event's active registrations) and stores the per-row report as an
ImportBatch, so that any app server can show it and apply it. Nothing is registered
until ``apply_batch``, which places all valid rows in one locked transaction through
``registration.register_many``; ``cancel_batch`` drops the batch and imports nothing.
"""

import csv
import io
import re
import warnings
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import PurePath

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from workshop.models import (
    EmploymentStatus,
    EventRole,
    ImportBatch,
    ImportStatus,
    MailStatus,
    OutgoingMail,
    Registration,
    RegistrationStatus,
    Unit,
    User,
    db,
)
from workshop.services import registration
from workshop.services.errors import DomainError, ValidationError
from workshop.services.registration_input import RegistrationInput, validate_registration
from workshop.timeutil import to_wib

MAX_BYTES = 5 * 1024 * 1024  # default for config IMPORT_MAX_BYTES
MAX_ROWS = 5000  # default for config IMPORT_MAX_ROWS
MAX_COLUMNS = 40
MAX_UNZIPPED = 200 * 1024 * 1024  # an XLSX that unpacks to more than this is refused
HEADER_SEARCH = 10  # a title block above the column names is common; look this far down
VALUE_MAX = 300  # characters of each cell kept in the report

CREATED, DUPLICATE, INVALID = "created", "duplicate", "invalid"


class ImportFileError(DomainError):
    """The file as a whole cannot be used (empty, not CSV/XLSX, too big, no usable header)."""

    code = "import_file"
    status = 400


# --- reading the file -------------------------------------------------------


def _fold(text: str) -> str:
    """A header cell reduced for comparison: 'No. HP / WA' -> 'no hp/wa'."""
    text = re.sub(r"\(.*?\)", " ", str(text).lower())
    text = re.sub(r"[_\-.:*]", " ", text)
    text = re.sub(r"\s*/\s*", "/", text)
    return re.sub(r"\s+", " ", text).strip()


HEADERS = {
    "name": [
        "name",
        "nama",
        "nama lengkap",
        "nama peserta",
        "nama dan gelar",
        "nama lengkap dan gelar",
        "full name",
    ],
    "email": ["email", "e mail", "surel", "alamat email", "alamat e mail", "email address"],
    "phone": [
        "phone",
        "telepon",
        "telp",
        "no telp",
        "no telepon",
        "nomor telepon",
        "hp",
        "no hp",
        "nomor hp",
        "hp/wa",
        "no hp/wa",
        "nomor hp/wa",
        "telepon/hp",
        "wa",
        "no wa",
        "nomor wa",
        "whatsapp",
        "ponsel",
        "phone number",
    ],
    "nip": ["nip", "nip/ni pppk", "ni pppk", "nomor induk pegawai"],
    "position": ["position", "jabatan", "job title"],
    "unit": [
        "unit",
        "unit kerja",
        "unit short name",
        "singkatan unit",
        "skpd",
        "opd",
        "skpd/opd",
        "perangkat daerah",
    ],
    "institution": ["institution", "instansi", "instansi lain", "asal instansi", "nama instansi"],
    # One column holding either a unit (short name or name) or an outside institution.
    "unit_or_institution": [
        "unit kerja/instansi",
        "instansi/unit kerja",
        "unit/instansi",
        "instansi/unit",
        "unit or institution",
        "asal",
    ],
    "employment_status": [
        "employment status",
        "status kepegawaian",
        "status pegawai",
        "kepegawaian",
        "status asn",
    ],
    "role": ["role", "peran", "sebagai"],
}
HEADER_FIELDS = {alias: name for name, aliases in HEADERS.items() for alias in aliases}

STATUS_WORDS = {
    "pns": EmploymentStatus.PNS,
    "asn pns": EmploymentStatus.PNS,
    "pppk": EmploymentStatus.PPPK,
    "asn pppk": EmploymentStatus.PPPK,
    "p3k": EmploymentStatus.PPPK,
    "non asn": EmploymentStatus.NON_ASN,
    "nonasn": EmploymentStatus.NON_ASN,
    "non pns": EmploymentStatus.NON_ASN,
    "honorer": EmploymentStatus.NON_ASN,
    "tenaga honorer": EmploymentStatus.NON_ASN,
}
ROLE_WORDS = {
    "peserta": EventRole.PARTICIPANT,
    "participant": EventRole.PARTICIPANT,
    "narasumber": EventRole.SPEAKER,
    "pembicara": EventRole.SPEAKER,
    "speaker": EventRole.SPEAKER,
    "panitia": EventRole.COMMITTEE,
    "committee": EventRole.COMMITTEE,
}

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Table:
    """The file's cells as read: one list per non-empty line, with its line number."""

    rows: list[tuple[int, list]] = field(default_factory=list)
    strict_width: bool = False


def read_table(filename: str, data: bytes, *, max_rows: int = MAX_ROWS) -> Table:
    """Read a CSV or XLSX upload into rows of cells. Raises ImportFileError with a message
    the organizer can act on (empty, wrong type, unreadable, too many rows)."""
    if not data:
        raise ImportFileError(
            _("Berkas kosong. Pilih berkas CSV atau XLSX yang berisi daftar peserta.")
        )
    suffix = PurePath(filename or "").suffix.lower()
    if suffix == ".xlsx":
        table = _read_xlsx(data, max_rows)
    elif suffix in (".csv", ".txt"):
        table = _read_csv(data, max_rows)
    elif suffix == ".xls":
        raise ImportFileError(
            _(
                "Format .xls (Excel lama) tidak didukung. Di Excel, pilih "
                "Simpan Sebagai > Buku Kerja Excel (.xlsx) atau CSV."
            )
        )
    else:
        raise ImportFileError(
            _("Jenis berkas tidak didukung. Unggah berkas CSV (.csv) atau Excel (.xlsx).")
        )
    if not table.rows:
        raise ImportFileError(_("Berkas tidak berisi data."))
    return table


def _too_many(max_rows: int) -> ImportFileError:
    return ImportFileError(
        _(
            "Berkas berisi lebih dari %(n)s baris data. Bagi daftar menjadi "
            "beberapa berkas, paling banyak %(n)s baris per berkas.",
            n=f"{max_rows:,}".replace(",", "."),
        )
    )


def _decode(data: bytes) -> str:
    """UTF-8 (BOM or not) first; else what Excel writes on Indonesian Windows (cp1252),
    with latin-1 for the few bytes cp1252 leaves undefined."""
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")


def _read_csv(data: bytes, max_rows: int) -> Table:
    text = _decode(data).rstrip("\x1a")  # an old DOS end-of-file mark is harmless
    if CONTROL_CHARS.search(text):
        raise ImportFileError(
            _(
                "Berkas ini bukan CSV berbentuk teks (mungkin gambar atau "
                "berkas lain yang diganti namanya). Di Excel, pilih Simpan "
                "Sebagai > CSV, lalu unggah berkas tersebut."
            )
        )
    first = next((line for line in text.splitlines() if line.strip()), "")
    # Excel in the Indonesian locale separates with semicolons; elsewhere with commas.
    delimiter = max((";", ",", "\t"), key=first.count) if first else ","
    table = Table(strict_width=True)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for number, cells in enumerate(reader, start=1):
            if not any(c.strip() for c in cells):
                continue
            if len(table.rows) > max_rows:  # the header plus max_rows data rows are allowed
                raise _too_many(max_rows)
            table.rows.append((number, cells[: MAX_COLUMNS + 1]))
    except csv.Error as exc:
        raise ImportFileError(
            _("Berkas CSV tidak dapat dibaca: %(error)s", error=str(exc))
        ) from exc
    return table


def _read_xlsx(data: bytes, max_rows: int) -> Table:
    import openpyxl

    not_xlsx = ImportFileError(
        _(
            "Berkas ini bukan berkas Excel .xlsx yang dapat dibaca. Buka "
            "di Excel lalu simpan ulang sebagai .xlsx atau CSV."
        )
    )
    if not data.startswith(b"PK\x03\x04"):
        raise not_xlsx
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise not_xlsx from exc
    if unpacked > MAX_UNZIPPED:
        raise ImportFileError(_("Isi berkas Excel ini terlalu besar untuk diimpor."))
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions other producers write; harmless here.
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
        raise not_xlsx from exc
    table = Table()
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            return table
        for number, cells in enumerate(
            sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True), start=1
        ):
            values = list(cells)
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            if len(table.rows) > max_rows:
                raise _too_many(max_rows)
            while values and values[-1] is None:
                values.pop()
            table.rows.append((number, values))
    except ImportFileError:
        raise
    except Exception as exc:
        raise not_xlsx from exc
    finally:
        workbook.close()
    return table


def _text(value) -> str:
    """A cell as text: numbers without '.0', dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


# --- checking rows ----------------------------------------------------------


@dataclass
class Columns:
    """Which cell holds which field (0-based), found from the header row."""

    line: int
    width: int  # cells up to the last named column
    index: dict[str, int]
    ignored: list[str]
    strict_width: bool  # CSV writes every separator, so a short row lost cells


def _header(cells: list) -> tuple[dict[str, int], list[str]]:
    """Known columns of a header row (field -> cell index) and the labels not recognised."""
    index: dict[str, int] = {}
    ignored = []
    for i, cell in enumerate(cells):
        label = _text(cell)
        name = HEADER_FIELDS.get(_fold(label))
        if name and name not in index:
            index[name] = i
        elif label:
            ignored.append(label)
    return index, ignored


def find_columns(table: Table) -> tuple[Columns, list[tuple[int, list]]]:
    """The header row (the first of the top rows naming a name or email column and one
    more known column) and the data rows below it. Raises ImportFileError when a required
    column is missing or no row follows the header."""
    position = 0
    index, ignored = _header(table.rows[0][1])
    for i, (_line, cells) in enumerate(table.rows[:HEADER_SEARCH]):
        found, skipped = _header(cells)
        if found.keys() & {"name", "email"} and len(found) >= 2:
            position, index, ignored = i, found, skipped
            break
    missing = [_("nama")] if "name" not in index else []
    if "email" not in index:
        missing.append(_("email"))
    if not index.keys() & {"unit", "institution", "unit_or_institution"}:
        missing.append(_("unit kerja atau instansi"))
    if missing:
        found_labels = ", ".join(_text(c) for c in table.rows[position][1] if _text(c))
        raise ImportFileError(
            _(
                "Kolom wajib tidak ditemukan: %(missing)s. Baris judul berkas harus berisi nama "
                "kolom, misalnya: nama, email, telepon, nip, jabatan, unit, instansi. Judul yang "
                "terbaca: %(found)s.",
                missing=", ".join(missing),
                found=found_labels[:200] or "-",
            )
        )
    line, cells = table.rows[position]
    data_rows = table.rows[position + 1 :]
    if not data_rows:
        raise ImportFileError(_("Berkas hanya berisi judul kolom, tanpa baris peserta."))
    width = max(i for i, c in enumerate(cells) if _text(c)) + 1
    return Columns(line, width, index, ignored, table.strict_width), data_rows


@dataclass
class _Units:
    by_key: dict[str, Unit]

    @classmethod
    def load(cls) -> "_Units":
        """Every unit, by short name and by name, lower-cased (one query)."""
        by_key = {}
        for unit in db.session.scalars(db.select(Unit)):
            by_key.setdefault(unit.short_name.strip().lower(), unit)
            by_key.setdefault(unit.name.strip().lower(), unit)
        return cls(by_key)

    def find(self, text: str) -> Unit | None:
        return self.by_key.get(text.strip().lower())


def _cell(cells: list, columns: Columns, name: str):
    i = columns.index.get(name)
    return cells[i] if i is not None and i < len(cells) else None


def _row_values(cells: list, columns: Columns) -> dict[str, str]:
    return {name: _text(_cell(cells, columns, name))[:VALUE_MAX] for name in HEADERS}


def _employment_status(value: str, nip: str) -> str:
    """The status column's word, or when absent: PNS with a NIP, else non-ASN."""
    folded = _fold(value)
    if folded:
        return STATUS_WORDS.get(folded, folded)
    return EmploymentStatus.PNS if nip.strip() else EmploymentStatus.NON_ASN


def _shape_errors(cells: list, columns: Columns) -> dict[str, list[str]]:
    """A row that lost cells or has more than its header (usually an unquoted separator)."""
    if columns.strict_width and len(cells) < columns.width:
        return {
            "row": [
                _(
                    "Baris ini hanya berisi %(n)d dari %(m)d kolom; periksa kolom yang "
                    "hilang atau bergeser.",
                    n=len(cells),
                    m=columns.width,
                )
            ]
        }
    if any(_text(c) for c in cells[columns.width :]):
        return {
            "row": [
                _(
                    "Baris ini berisi lebih banyak kolom daripada judulnya. Bila ada koma "
                    "atau titik koma di dalam isian (misalnya gelar), apit isian itu "
                    "dengan tanda kutip."
                )
            ]
        }
    return {}


def _resolve_unit(values: dict[str, str], units: _Units) -> tuple[Unit | None, str, str, str]:
    """(unit, unit as typed, institution, error) from the unit, institution and combined
    columns: a combined cell naming a known unit is that unit, anything else an institution."""
    unit_text, institution = values["unit"], values["institution"]
    combined = values["unit_or_institution"]
    if combined:
        if units.find(combined) is not None and not unit_text:
            unit_text = combined
        elif not institution:
            institution = combined
    if not unit_text:
        return None, "", institution, ""
    unit = units.find(unit_text)
    if unit is None:
        return (
            None,
            unit_text,
            institution,
            _(
                'Unit kerja "%(unit)s" tidak dikenal. Tulis singkatan unit seperti di daftar unit '
                "kerja, atau isi kolom instansi untuk instansi lain.",
                unit=unit_text,
            ),
        )
    if not unit.active:
        return (
            None,
            unit_text,
            institution,
            _('Unit kerja "%(unit)s" sudah tidak aktif.', unit=unit_text),
        )
    return unit, unit_text, institution, ""


def _check_row(cells: list, columns: Columns, units: _Units, today: date) -> dict:
    """One data row checked by the registration rules; see ``check_rows``."""
    values = _row_values(cells, columns)
    errors = _shape_errors(cells, columns)
    # Excel keeps 15 significant digits: an 18-digit NIP typed as a number is already wrong.
    nip_was_number = (
        isinstance(_cell(cells, columns, "nip"), float)
        and abs(_cell(cells, columns, "nip")) >= 1e15
    )
    if nip_was_number:
        errors["nip"] = [
            _(
                "NIP tersimpan sebagai angka di Excel sehingga digit terakhirnya "
                "hilang. Format kolom NIP sebagai Teks, lalu ketik ulang NIP-nya."
            )
        ]
    phone = values["phone"]
    if isinstance(_cell(cells, columns, "phone"), int | float) and phone.startswith("8"):
        phone = "0" + phone  # Excel drops the leading zero of a number typed as 0812…
    unit, unit_text, institution, unit_error = _resolve_unit(values, units)
    role = _fold(values["role"])
    data = RegistrationInput(
        name=values["name"],
        email=values["email"],
        employment_status=_employment_status(values["employment_status"], values["nip"]),
        phone=phone,
        nip=values["nip"],
        position=values["position"],
        unit_id=unit.id if unit is not None else None,
        institution=institution,
        role=ROLE_WORDS.get(role, role) or EventRole.PARTICIPANT,
    )
    checked = None
    try:
        checked = validate_registration(data, today=today)
    except ValidationError as exc:
        for name, messages in exc.fields.items():
            if not (name == "nip" and nip_was_number):  # the Excel explanation says it all
                errors.setdefault(name, []).extend(messages)
    if unit_error:
        errors["unit_id"] = [unit_error]  # instead of the generic "choose a unit"
    return {
        "line": 0,
        "status": INVALID if errors else CREATED,
        "values": {
            **values,
            "unit": unit.short_name if unit is not None else unit_text,
            "institution": institution,
        },
        "data": asdict(checked) if checked is not None and not errors else None,
        "errors": errors,
    }


def _existing_keys(event_id: int) -> tuple[set[str], set[str]]:
    """Emails and NIPs of the event's active registrations (one query)."""
    rows = db.session.execute(
        db.select(Registration.email, Registration.nip).where(
            Registration.event_id == event_id,
            Registration.status != RegistrationStatus.CANCELLED,
        )
    )
    emails, nips = set(), set()
    for email, nip in rows:
        emails.add(email)
        if nip:
            nips.add(nip)
    return emails, nips


def check_rows(event_id: int, table: Table, *, today: date) -> tuple[list[dict], Columns]:
    """The per-row report: each row created (valid, will be registered), duplicate (same
    email or NIP as an earlier row or an active registration) or invalid (with the
    messages per field). A constant number of queries, whatever the number of rows."""
    columns, data_rows = find_columns(table)
    units = _Units.load()
    existing_emails, existing_nips = _existing_keys(event_id)
    seen_emails: dict[str, int] = {}
    seen_nips: dict[str, int] = {}
    report = []
    for line, cells in data_rows:
        row = _check_row(cells, columns, units, today)
        row["line"] = line
        data = row["data"]
        if data is not None:
            email, nip = data["email"], data["nip"]
            earlier = seen_emails.get(email) or (seen_nips.get(nip) if nip else None)
            if earlier is not None:
                row["status"] = DUPLICATE
                row["message"] = _(
                    "Orang yang sama dengan baris %(line)d (email atau NIP sama).", line=earlier
                )
            elif email in existing_emails or (nip and nip in existing_nips):
                row["status"] = DUPLICATE
                row["message"] = _("Sudah terdaftar di kegiatan ini (email atau NIP sama).")
            else:
                seen_emails[email] = line
                if nip:
                    seen_nips[nip] = line
            if row["status"] == DUPLICATE:
                row["data"] = None
        report.append(row)
    return report, columns


def create_batch(
    event_id: int,
    *,
    filename: str,
    data: bytes,
    actor: User,
    now: datetime,
    max_rows: int = MAX_ROWS,
) -> tuple[ImportBatch, list[str]]:
    """Read and check an upload and store the report as a pending ImportBatch (added and
    flushed; the caller commits). Returns the batch and the names of ignored columns.
    Raises ImportFileError for a file that cannot be used; then nothing is stored."""
    table = read_table(filename, data, max_rows=max_rows)
    report, columns = check_rows(event_id, table, today=to_wib(now).date())
    batch = ImportBatch(
        event_id=event_id,
        user_id=actor.id,
        filename=PurePath((filename or "").replace("\\", "/")).name[:255] or "-",
        rows=report,
        status=ImportStatus.PENDING,
        created_at=now,
    )
    db.session.add(batch)
    db.session.flush()
    return batch, columns.ignored


def event_batch(event_id: int, batch_id: int) -> ImportBatch | None:
    """The batch if it belongs to the event."""
    batch = db.session.get(ImportBatch, batch_id)
    return batch if batch is not None and batch.event_id == event_id else None


def summary(batch: ImportBatch) -> dict[str, int]:
    """Counts per row status and, once applied, per result."""
    counts = {
        CREATED: 0,
        DUPLICATE: 0,
        INVALID: 0,
        "confirmed": 0,
        "waitlisted": 0,
        "refused": 0,
        "total": len(batch.rows),
    }
    for row in batch.rows:
        counts[row["status"]] += 1
        if "result" in row:
            counts[row["result"]] += 1
    return counts


class BatchNotPending(DomainError):
    code = "import_not_pending"


def apply_batch(batch_id: int, *, now: datetime, actor: User) -> tuple[ImportBatch, list[int]]:
    """Register every 'created' row of a pending batch, in file order, in ONE locked
    transaction (registration.register_many), and mark the batch applied. Commits.

    The registrations' mails are queued in that transaction but not sent: the caller
    gets their ids to deliver after answering (``mail.dispatch``), and ``flask send-mail``
    sends whatever is left, so a large import does not wait for a thousand messages.

    The batch is claimed first with a conditional update, so a double submit or a second
    server cannot apply it twice (BatchNotPending). Rows are checked again against the
    rules, because units or the event may have changed since the report; a row refused now
    (or by register_many: duplicate, full without waiting list) gets result 'refused' and
    the reason. Raises NotFound/RegistrationClosed for the whole batch, which then stays
    pending and nothing is registered.
    """
    claimed = db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch_id, ImportBatch.status == ImportStatus.PENDING)
        .values(status=ImportStatus.APPLIED, applied_at=now)
    ).rowcount
    db.session.commit()
    batch = db.session.get(ImportBatch, batch_id, populate_existing=True)
    if not claimed or batch is None:
        raise BatchNotPending(str(_l("Impor ini sudah diproses atau dibatalkan.")))
    rows = [dict(row) for row in batch.rows]
    today = to_wib(now).date()
    _Units.load()  # one query: the checks below find every unit in the session
    placing: list[tuple[dict, RegistrationInput]] = []
    for row in rows:
        if row["status"] != CREATED:
            continue
        try:
            placing.append((row, validate_registration(RegistrationInput(**row["data"]), today)))
        except ValidationError as exc:
            row["result"] = "refused"
            row["message"] = " ".join(m for ms in exc.fields.values() for m in ms)
    try:
        results = registration.register_many(
            batch.event_id, [data for _r, data in placing], now=now, actor=actor, deliver=False
        )
    except DomainError:
        db.session.execute(
            update(ImportBatch)
            .where(ImportBatch.id == batch_id)
            .values(status=ImportStatus.PENDING, applied_at=None)
        )
        db.session.commit()
        raise
    for (row, _data), result in zip(placing, results, strict=True):
        if isinstance(result, DomainError):
            row["result"], row["message"] = "refused", result.message
        else:
            row["result"], row["registration_id"] = str(result.status), result.id
    batch = db.session.get(ImportBatch, batch_id)
    batch.rows = rows  # a new list, so the JSON column is written
    db.session.commit()
    placed = [row["registration_id"] for row in rows if "registration_id" in row]
    return batch, _pending_mails(placed)


def _pending_mails(registration_ids: list[int]) -> list[int]:
    if not registration_ids:
        return []
    return list(
        db.session.scalars(
            db.select(OutgoingMail.id)
            .where(
                OutgoingMail.registration_id.in_(registration_ids),
                OutgoingMail.status == MailStatus.PENDING,
            )
            .order_by(OutgoingMail.id)
        )
    )


def cancel_batch(batch: ImportBatch) -> bool:
    """Drop a pending batch: nothing is imported. False when it was no longer pending.
    The caller commits."""
    if batch.status != ImportStatus.PENDING:
        return False
    batch.status = ImportStatus.CANCELLED
    db.session.flush()
    return True


def recent_batches(event_id: int, limit: int = 5) -> list[ImportBatch]:
    """The event's latest imports, newest first (to return to a report left open)."""
    return list(
        db.session.scalars(
            db.select(ImportBatch)
            .where(ImportBatch.event_id == event_id)
            .order_by(ImportBatch.id.desc())
            .limit(limit)
        )
    )


def template_csv() -> bytes:
    """An example file: the column names and two rows, semicolon-separated UTF-8 with a
    BOM, as Excel in the Indonesian locale opens and saves it."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            "nama",
            "email",
            "telepon",
            "status kepegawaian",
            "nip",
            "jabatan",
            "unit",
            "instansi",
            "peran",
        ]
    )
    writer.writerow(
        [
            "Ir. H. Abdul Najib, MM",
            "abdul.najib@example.go.id",
            "0812-3456-7890",
            "PNS",
            "19680411 199303 1 009",
            "Kepala Bappeda",
            "Bappeda",
            "",
            "Peserta",
        ]
    )
    writer.writerow(
        [
            "Dina Limanto",
            "dina@example.org",
            "",
            "Non-ASN",
            "",
            "Narasumber",
            "",
            "GIZ",
            "Narasumber",
        ]
    )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
