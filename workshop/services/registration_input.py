"""What a person types to register (or an import row holds), checked and normalised:
the fields of a registration before it is placed (``services.registration``).
"""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from workshop.models import EmploymentStatus, EventRole, Unit, db
from workshop.services.errors import ValidationError
from workshop.services.identity import (
    IdentityError,
    check_nip,
    check_pppk_number,
    normalise_phone,
)
from workshop.services.users import normalise_email

NAME_MAX = 200


@dataclass
class RegistrationInput:
    """What a person types (or an import row holds), before checking."""

    name: str
    email: str
    employment_status: str
    phone: str = ""
    nip: str = ""
    position: str = ""
    unit_id: int | None = None
    institution: str = ""
    role: str = EventRole.PARTICIPANT


def validate_registration(data: RegistrationInput, today: date) -> RegistrationInput:
    """Check and normalise every field; raise ValidationError with a message per field.

    The name is kept exactly as typed (titles, degrees, single names, any script), only
    trimmed. Email syntax is checked. The phone becomes +62…. PNS need a valid NIP,
    PPPK an 18-digit NI PPPK, non-ASN none. Exactly one of a known active unit or an
    outside institution.
    """
    errors: dict[str, list[str]] = {}

    def add(name, message):
        errors.setdefault(name, []).append(str(message))

    name = (data.name or "").strip()
    if not name:
        add("name", _l("Nama wajib diisi."))
    elif len(name) > NAME_MAX:
        add("name", _l("Nama paling banyak %(max)d karakter.", max=NAME_MAX))

    email = (data.email or "").strip()
    if not email:
        add("email", _l("Email wajib diisi."))
    else:
        try:
            email = normalise_email(email)
        except ValidationError:
            add("email", _l("Alamat email tidak valid, contoh: nama@muaraenimkab.go.id."))

    phone = None
    if (data.phone or "").strip():
        try:
            phone = normalise_phone(data.phone)
        except IdentityError as exc:
            add("phone", exc.args[0])

    status = (data.employment_status or "").strip().lower()
    nip = None
    if status not in set(EmploymentStatus):
        add("employment_status", _l("Pilih status kepegawaian: PNS, PPPK, atau non-ASN."))
    elif status == EmploymentStatus.PNS:
        if not (data.nip or "").strip():
            add("nip", _l("NIP wajib diisi untuk PNS."))
        else:
            try:
                nip = check_nip(data.nip, today)
            except IdentityError as exc:
                add("nip", exc.args[0])
    elif status == EmploymentStatus.PPPK:
        if not (data.nip or "").strip():
            add("nip", _l("NI PPPK wajib diisi untuk PPPK."))
        else:
            try:
                nip = check_pppk_number(data.nip)
            except IdentityError as exc:
                add("nip", exc.args[0])
    elif (data.nip or "").strip():
        add("nip", _l("Non-ASN tidak memiliki NIP; kosongkan kolom ini atau ubah status."))

    position = (data.position or "").strip()
    if len(position) > NAME_MAX:
        add("position", _l("Jabatan paling banyak %(max)d karakter.", max=NAME_MAX))

    institution = (data.institution or "").strip()
    if data.unit_id is not None and institution:
        add("institution", _l("Pilih unit kerja atau isi nama instansi lain, bukan keduanya."))
    elif data.unit_id is None and not institution:
        add("unit_id", _l("Pilih unit kerja, atau pilih instansi lain dan tulis namanya."))
    elif data.unit_id is not None:
        unit = db.session.get(Unit, data.unit_id)  # an import's rows share a few units
        if unit is None or not unit.active:
            add("unit_id", _l("Unit kerja tidak dikenal."))
    elif len(institution) > NAME_MAX:
        add("institution", _l("Nama instansi paling banyak %(max)d karakter.", max=NAME_MAX))

    role = (data.role or EventRole.PARTICIPANT).strip().lower()
    if role not in set(EventRole):
        add("role", _l("Peran tidak dikenal."))

    if errors:
        raise ValidationError(errors)
    return RegistrationInput(
        name=name,
        email=email,
        employment_status=status,
        phone=phone or "",
        nip=nip or "",
        position=position,
        unit_id=data.unit_id,
        institution=institution if data.unit_id is None else "",
        role=role,
    )
