"""Certificates as files: the values printed on each one, single PDFs, the streamed ZIP and
the print PDF of a whole event.

The values that are the same on every certificate of an event (organizer, dates, venue,
signatory, logo) are computed once per event; each certificate adds its person, number
and verification code. The ZIP is produced one certificate at a time into a stream, so a
1,000-person event never holds every PDF in memory; the print PDF is spooled to a
temporary file and read back in chunks.
"""

import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import BinaryIO

from sqlalchemy.orm import selectinload

from workshop.models import Certificate, CertificateSettings, Event, Registration, db
from workshop.services.certificate_pdf import (
    CertificateData,
    days_text,
    format_nip,
    render_certificate_pdf,
    render_certificates_pdf,
    sign_place_date,
)
from workshop.services.certificates import format_number, settings_for
from workshop.timeutil import to_wib

SAMPLE_NAME = "Ir. H. Abdul Najib, MM"
SAMPLE_CODE = "CONTOH-PRATINJAU"
CHUNK = 64 * 1024
SPOOL_IN_MEMORY = 8 * 1024 * 1024  # a print PDF larger than this goes to a temporary file

VerifyUrl = Callable[[str], str]  # verification code -> absolute URL of /verify/<code>


def event_base(event: Event, settings, *, government: str) -> CertificateData:
    """The values shared by every certificate of ``event`` (person fields left blank).
    ``settings`` is the stored CertificateSettings or a checked SettingsInput."""
    language = settings.language or "id"
    days = event.day_dates or [to_wib(event.starts_at).date()]
    unit = event.unit.name if event.unit is not None else ""
    organizer = f"{unit}, {government}" if unit else government
    return CertificateData(
        number="",
        name="",
        nip="",
        position="",
        affiliation="",
        role="participant",
        event_title=event.title,
        organizer=organizer,
        date_text=days_text(days, language),
        venue=event.venue,
        hours=settings.hours,
        sign_place_date=sign_place_date(settings.sign_place or "", settings.sign_date, language),
        signatory_title=settings.signatory_title or "",
        signatory_name=settings.signatory_name or "",
        signatory_rank=settings.signatory_rank or "",
        signatory_nip=format_nip(settings.signatory_nip),
        verify_url="",
        verification_code="",
        government=government,
        unit_name=unit,
        language=language,
        logo=settings.logo,
    )


def person_data(
    base: CertificateData, cert: Certificate, reg: Registration, verify_url: VerifyUrl
) -> CertificateData:
    """``base`` with the person, number, JP and verification code of one certificate."""
    return replace(
        base,
        number=cert.number,
        name=reg.name,
        nip=format_nip(reg.nip),
        position=reg.position or "",
        affiliation=reg.affiliation,
        role=str(cert.role),
        hours=cert.hours,
        verify_url=verify_url(cert.verification_code),
        verification_code=cert.verification_code,
    )


def certificate_data(
    cert: Certificate, *, government: str, verify_url: VerifyUrl
) -> CertificateData:
    settings = settings_for(cert.event)
    base = event_base(cert.event, settings, government=government)
    return person_data(base, cert, cert.registration, verify_url)


def certificate_pdf(cert: Certificate, *, government: str, verify_url: VerifyUrl) -> bytes:
    return render_certificate_pdf(
        certificate_data(cert, government=government, verify_url=verify_url)
    )


def sample_data(
    event: Event, settings, *, sequence: int, government: str, verify_url: VerifyUrl
) -> CertificateData:
    """A preview with sample person data and number ``sequence``; nothing is issued."""
    base = event_base(event, settings, government=government)
    return replace(
        base,
        number=format_number(settings, sequence, event),
        name=SAMPLE_NAME,
        nip=format_nip("196804111993031009"),
        position="Kepala Bidang",
        affiliation="Badan Perencanaan Pembangunan Daerah",
        role="participant",
        verify_url=verify_url(SAMPLE_CODE),
        verification_code=SAMPLE_CODE,
        sample=True,
    )


# --- a whole event -----------------------------------------------------------------


def valid_certificates(event_id: int) -> list[Certificate]:
    """The event's valid certificates in number order, with their registrations loaded."""
    return list(
        db.session.scalars(
            db.select(Certificate)
            .where(Certificate.event_id == event_id, Certificate.revoked_at.is_(None))
            .options(selectinload(Certificate.registration).selectinload(Registration.unit))
            .order_by(Certificate.sequence)
        )
    )


def count_valid(event_id: int) -> int:
    return (
        db.session.scalar(
            db.select(db.func.count(Certificate.id)).where(
                Certificate.event_id == event_id, Certificate.revoked_at.is_(None)
            )
        )
        or 0
    )


def event_items(
    event: Event, certificates: list[Certificate], *, government: str, verify_url: VerifyUrl
) -> list[tuple[Certificate, CertificateData]]:
    """The values of every certificate, read now: a streamed response renders them after
    the view has returned, when the database session is gone (a few hundred bytes each)."""
    settings = db.session.scalar(
        db.select(CertificateSettings).where(CertificateSettings.event_id == event.id)
    ) or settings_for(event)
    base = event_base(event, settings, government=government)
    return [(cert, person_data(base, cert, cert.registration, verify_url)) for cert in certificates]


# --- file names ----------------------------------------------------------------------

_LETTERS = str.maketrans(
    {
        "đ": "d",
        "Đ": "D",
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ı": "i",
        "/": "-",
        "\\": "-",
    }
)
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}
NAME_MAX = 100  # characters before ".pdf": well inside Windows' 260-character paths


def certificate_filename(number: str, name: str) -> str:
    """ "001-SERT-BAPPEDA-III-2018 Ir. H. Abdul Najib, MM.pdf": ASCII only (old unzip tools
    garble other names), none of < > : " / \\ | ? * or control characters, no trailing dot
    or space, not a reserved device name, at most 104 characters."""
    text = unicodedata.normalize("NFKD", f"{number} {name}".translate(_LETTERS))
    text = text.encode("ascii", "ignore").decode("ascii")
    text = re.sub(r'[<>:"/\\|?*\x00-\x1f\x7f]', "", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = text[:NAME_MAX].rstrip(". ")
    if not text or text.split(".")[0].upper() in _RESERVED:
        text = f"sertifikat {text}".strip()
    return f"{text}.pdf"


def unique_name(name: str, seen: set[str]) -> str:
    """``name``, or with " (2)", " (3)" … when ``seen`` has it already (ignoring case, as
    Windows does); the result is added to ``seen``."""
    stem, dot, ext = name.rpartition(".")
    candidate, n = name, 1
    while candidate.casefold() in seen:
        n += 1
        candidate = f"{stem} ({n}){dot}{ext}"
    seen.add(candidate.casefold())
    return candidate


# --- the ZIP, streamed ------------------------------------------------------------------


class _Pipe:
    """A write-only, unseekable file for ZipFile: what is written is taken out in chunks."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def zip_stream(items: Iterable[tuple[Certificate, CertificateData]]) -> Iterator[bytes]:
    """The ZIP of one PDF per certificate, yielded as it is made (one PDF at a time)."""
    pipe, seen = _Pipe(), set()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_STORED) as archive:
        for cert, data in items:
            filename = unique_name(certificate_filename(data.number, data.name), seen)
            info = zipfile.ZipInfo(filename, date_time=to_wib(cert.issued_at).timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED  # PDFs are compressed already
            info.external_attr = 0o644 << 16
            archive.writestr(info, render_certificate_pdf(data))
            yield pipe.take()
    yield pipe.take()


# --- the print PDF, spooled ---------------------------------------------------------------


def print_pdf(items: Iterable[CertificateData], title: str = "") -> tuple[BinaryIO, int]:
    """All certificates as one multi-page PDF in a spooled temporary file (rewound), and
    its size in bytes. The caller streams it with ``read_chunks`` (which closes it)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (returned)
    try:
        render_certificates_pdf(items, spool, title=title)
    except BaseException:
        spool.close()
        raise
    size = spool.tell()
    spool.seek(0)
    return spool, size


def read_chunks(file: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := file.read(CHUNK):
            yield chunk
    finally:
        file.close()
