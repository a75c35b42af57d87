"""JSON in and out of the API: strict parsing of request bodies, serialising models.

Parsing checks types only (a string where a number belongs, an unreadable date, an
unknown field) and answers 422 with a message per field; the rules themselves (lengths,
end after start, quotas, NIP, ...) stay in ``services.events.validate_event`` and
``services.registration_input.validate_registration``.
Field names follow DESIGN.md "JSON field names".
"""

import re
from datetime import date, datetime

from flask import request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workshop.models import Event, EventRole, EventStatus, Registration, RegistrationStatus, Unit
from workshop.services import checkin, registration_lists
from workshop.services.errors import ValidationError
from workshop.services.events import AgendaInput, EventInput, SpeakerInput, input_from_event
from workshop.services.registration_input import RegistrationInput
from workshop.timeutil import dates_between, to_wib

INT_MAX = 2**31 - 1  # INTEGER columns on PostgreSQL: larger ids or counts cannot even be looked up

EVENT_REQUIRED = ("title", "venue", "starts_at", "ends_at")
EVENT_READ_ONLY = ("id", "owner_id", "confirmed", "waitlisted", "checked_in")
DATETIME_EXAMPLE = "2030-01-25T08:00:00+07:00"


class ApiError(Exception):
    """An answer other than success, rendered as the API's JSON error."""

    def __init__(self, status: int, message: str, error: str | None = None, fields=None):
        super().__init__(message)
        self.status, self.message, self.error, self.fields = status, message, error, fields


class FieldError(Exception):
    """One field's value has the wrong type or shape."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = str(message)


# --- request bodies ----------------------------------------------------------


def json_object() -> dict:
    """The request body as a JSON object, or ApiError 400 ``bad_request``."""
    body = None
    if request.is_json:
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # absurdly deep nesting
            body = None
    if not isinstance(body, dict):
        raise ApiError(
            400,
            _("Isi permintaan harus berupa objek JSON dengan Content-Type: application/json."),
            "bad_request",
        )
    return body


def _text(value, *, nullable: bool = False, required: bool = False) -> str:
    if value is None and nullable:
        return ""
    if value is None and required:
        raise FieldError(_("Wajib diisi."))
    if not isinstance(value, str):
        raise FieldError(_("Harus berupa teks."))
    # PostgreSQL cannot store NUL, and lone surrogates (from "\ud800" escapes) cannot be
    # encoded at all: refuse them here rather than failing in the database.
    if "\x00" in value:
        raise FieldError(_("Teks tidak boleh memuat karakter NUL."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError(_("Teks memuat karakter yang tidak valid.")) from None
    return value


def _datetime(value, *, nullable: bool = False) -> datetime | None:
    """ISO 8601 date and time; with an offset, or naive (read later as WIB)."""
    if value is None and nullable:
        return None
    problem = FieldError(
        _("Harus berupa tanggal dan jam ISO 8601, misalnya %(example)s.", example=DATETIME_EXAMPLE)
    )
    if not isinstance(value, str):
        raise problem
    try:
        date.fromisoformat(value)
    except ValueError:
        pass
    else:
        raise problem  # a date alone: the time is missing
    try:
        return datetime.fromisoformat(value)  # the year range is a rule of validate_event
    except ValueError:
        raise problem from None


def _optional_datetime(value) -> datetime | None:
    return _datetime(value, nullable=True)


def _date(value) -> date:
    if not isinstance(value, str):
        raise ValueError
    return date.fromisoformat(value)


def _days(value) -> list[date] | None:
    if value is None:
        return None  # every day from start to end
    if not isinstance(value, list):
        raise FieldError(_('Harus berupa daftar tanggal ISO 8601, misalnya ["2030-01-25"].'))
    try:
        return [_date(item) for item in value]
    except ValueError:
        raise FieldError(
            _('Setiap hari harus berupa tanggal ISO 8601, misalnya "2030-01-25".')
        ) from None


def _optional_int(value) -> int | None:
    if value is None:
        return None
    # bool is an int in Python but true/false is no number in JSON.
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(_("Harus bilangan bulat atau null."))
    if abs(value) > INT_MAX:
        raise FieldError(_("Angka terlalu besar."))
    return value


def _bool(value) -> bool:
    if not isinstance(value, bool):
        raise FieldError(_("Harus bernilai true atau false."))
    return value


def _objects(value, label, allowed: set[str]) -> list[dict]:
    """A list of objects with only ``allowed`` keys; ``label`` names an item for messages."""
    if not isinstance(value, list):
        raise FieldError(_("Harus berupa daftar objek."))
    for n, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise FieldError(_("%(item)s ke-%(n)d harus berupa objek.", item=label, n=n))
        unknown = sorted(set(item) - allowed)
        if unknown:
            raise FieldError(
                _(
                    "%(item)s ke-%(n)d: kolom tidak dikenal: %(names)s.",
                    item=label,
                    n=n,
                    names=", ".join(unknown),
                )
            )
    return value


def _item_field(parse, item: dict, key: str, label, n: int, **options):
    try:
        return parse(item.get(key), **options)
    except FieldError as exc:
        raise FieldError(
            _(
                "%(item)s ke-%(n)d, %(key)s: %(problem)s",
                item=label,
                n=n,
                key=key,
                problem=exc.message,
            )
        ) from None


def _speakers(value) -> list[SpeakerInput]:
    label = _l("Narasumber")
    items = _objects(value, label, {"name", "affiliation"})
    return [
        SpeakerInput(
            name=_item_field(_text, item, "name", label, n, required=True),
            affiliation=_item_field(_text, item, "affiliation", label, n, nullable=True),
        )
        for n, item in enumerate(items, start=1)
    ]


def _agenda(value) -> list[AgendaInput]:
    label = _l("Acara")
    items = _objects(value, label, {"starts_at", "title", "speaker"})
    return [
        AgendaInput(
            starts_at=_item_field(_datetime, item, "starts_at", label, n),
            title=_item_field(_text, item, "title", label, n, required=True),
            speaker=_item_field(_text, item, "speaker", label, n, nullable=True),
        )
        for n, item in enumerate(items, start=1)
    ]


def _status(value) -> EventStatus:
    if isinstance(value, str) and value in {s.value for s in EventStatus}:
        return EventStatus(value)
    raise FieldError(
        _(
            "Status tidak dikenal. Pilihan: %(choices)s.",
            choices=", ".join(s.value for s in EventStatus),
        )
    )


EVENT_PARSERS = {
    "title": lambda v: _text(v, required=True),
    "description": lambda v: _text(v, nullable=True),
    "venue": lambda v: _text(v, required=True),
    "starts_at": _datetime,
    "ends_at": _datetime,
    "days": _days,
    "capacity": _optional_int,
    "unit_quota": _optional_int,
    "waitlist": _bool,
    "registration_opens_at": _optional_datetime,
    "registration_closes_at": _optional_datetime,
    "unit_id": _optional_int,
    "speakers": _speakers,
    "agenda": _agenda,
    "status": _status,
}


def parse_event(body: dict, *, partial: bool) -> dict:
    """Typed values for the fields in ``body``; raises ValidationError naming every bad field.

    ``partial`` (PATCH) makes every field optional; otherwise title, venue, starts_at and
    ends_at are required. ``status`` is returned as an EventStatus under "status".
    """
    errors: dict[str, list[str]] = {}
    values = {}
    for key, raw in body.items():
        if key in EVENT_READ_ONLY:
            errors[key] = [_("Kolom ini hanya dapat dibaca dan tidak dapat diubah.")]
        elif key not in EVENT_PARSERS:
            errors[key] = [_("Kolom tidak dikenal.")]
        else:
            try:
                values[key] = EVENT_PARSERS[key](raw)
            except FieldError as exc:
                errors[key] = [exc.message]
    if not partial:
        for key in EVENT_REQUIRED:
            if key not in body:
                errors[key] = [_("Wajib diisi.")]
        if values.get("status") not in (None, EventStatus.DRAFT, EventStatus.PUBLISHED):
            errors["status"] = [_("Kegiatan baru hanya dapat berstatus draft atau published.")]
    if errors:
        raise ValidationError(errors)
    return values


def new_event_input(values: dict) -> EventInput:
    """An EventInput for a new event from parsed values (without "status")."""
    return EventInput(**values)


def patched_event_input(event: Event, values: dict) -> EventInput:
    """The event's current values with the parsed ``values`` laid over them.

    When the dates move and the client says nothing about ``days``, days that were the
    default (every day from start to end) follow the new dates instead of being left behind.
    """
    data = input_from_event(event)
    moved = "starts_at" in values or "ends_at" in values
    if moved and "days" not in values and data.days == dates_between(data.starts_at, data.ends_at):
        data.days = None
    for key, value in values.items():
        setattr(data, key, value)
    return data


# Registration bodies: types only here; the rules (required fields, NIP, phone, lengths,
# unit or institution) are ``services.registration_input.validate_registration``'s.
REGISTRATION_READ_ONLY = (
    "id",
    "event_id",
    "status",
    "waitlist_position",
    "check_in_code",
    "manage_url",
    "created_at",
)
REGISTRATION_PARSERS = {
    "name": lambda v: _text(v, nullable=True),
    "email": lambda v: _text(v, nullable=True),
    "phone": lambda v: _text(v, nullable=True),
    "nip": lambda v: _text(v, nullable=True),
    "employment_status": lambda v: _text(v, nullable=True),
    "position": lambda v: _text(v, nullable=True),
    "unit_id": _optional_int,
    "institution": lambda v: _text(v, nullable=True),
    "role": lambda v: _text(v, nullable=True),
}


def parse_registration(body: dict) -> RegistrationInput:
    """A RegistrationInput from a JSON body; ValidationError names every field of the wrong
    type, unknown or read-only. A missing or null text is empty (the service then says
    which are required); a missing ``role`` is ``participant``."""
    errors: dict[str, list[str]] = {}
    values = {}
    for key, raw in body.items():
        if key in REGISTRATION_READ_ONLY:
            errors[key] = [_("Kolom ini hanya dapat dibaca dan tidak dapat diubah.")]
        elif key not in REGISTRATION_PARSERS:
            errors[key] = [_("Kolom tidak dikenal.")]
        else:
            try:
                values[key] = REGISTRATION_PARSERS[key](raw)
            except FieldError as exc:
                errors[key] = [exc.message]
    if errors:
        raise ValidationError(errors)
    return RegistrationInput(
        name=values.get("name", ""),
        email=values.get("email", ""),
        employment_status=values.get("employment_status", ""),
        phone=values.get("phone", ""),
        nip=values.get("nip", ""),
        position=values.get("position", ""),
        unit_id=values.get("unit_id"),
        institution=values.get("institution", ""),
        role=values.get("role") or EventRole.PARTICIPANT,
    )


def empty_object() -> None:
    """Accept no body, or an empty JSON object (actions such as cancel take no fields)."""
    if not request.get_data(cache=True):
        return
    body = json_object()
    if body:
        raise ValidationError({key: [_("Kolom tidak dikenal.")] for key in body})


def status_filter(value: str | None) -> RegistrationStatus | None:
    """The ``status`` query parameter of a registration list, or ValidationError."""
    if value is None:
        return None
    if value in {s.value for s in RegistrationStatus}:
        return RegistrationStatus(value)
    raise ValidationError(
        {
            "status": [
                _(
                    "Status tidak dikenal. Pilihan: %(choices)s.",
                    choices=", ".join(s.value for s in RegistrationStatus),
                )
            ]
        }
    )


# A QR code holds at most about 7,000 characters: anything up to SCAN_TEXT_MAX is scanned
# text (junk answers "not_found"), anything longer is no scan at all (422).
SCAN_TEXT_MAX = 10_000
NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{8,64}$")  # crypto.randomUUID() and the like
CHECKIN_FIELDS = ("code", "event_id", "nonce")


def parse_checkin(body: dict) -> dict:
    """``code`` (any text up to SCAN_TEXT_MAX characters: junk is the scan's business, not
    an input error), ``event_id`` (integer) and an optional ``nonce`` (8-64 URL-safe
    characters); ValidationError names every bad field."""
    errors: dict[str, list[str]] = {}
    for key in body:
        if key not in CHECKIN_FIELDS:
            errors[key] = [_("Kolom tidak dikenal.")]
    code = body.get("code")
    if code is None:
        errors["code"] = [_("Wajib diisi.")]
    elif not isinstance(code, str):
        errors["code"] = [_("Harus berupa teks.")]
    elif len(code) > SCAN_TEXT_MAX:
        errors["code"] = [_("Paling banyak %(max)d karakter.", max=SCAN_TEXT_MAX)]
    event_id = body.get("event_id")
    if event_id is None:
        errors["event_id"] = [_("Wajib diisi.")]
    elif isinstance(event_id, bool) or not isinstance(event_id, int):
        errors["event_id"] = [_("Harus bilangan bulat.")]
    elif abs(event_id) > INT_MAX:
        errors["event_id"] = [_("Angka terlalu besar.")]
    nonce = body.get("nonce")
    if nonce is not None and not (isinstance(nonce, str) and NONCE_PATTERN.fullmatch(nonce)):
        errors["nonce"] = [_("Nonce harus 8-64 karakter huruf, angka, - atau _.")]
    if errors:
        raise ValidationError(errors)
    return {"code": code, "event_id": event_id, "nonce": nonce}


# --- responses ---------------------------------------------------------------


def iso_wib(value: datetime | None) -> str | None:
    """ISO 8601 in WIB with its offset (``2030-01-25T08:00:00+07:00``)."""
    return to_wib(value).isoformat() if value is not None else None


def event_counts(event_ids: list[int]) -> dict[int, dict[str, int]]:
    """The read-only counts of many events (``confirmed``, ``waitlisted``, ``checked_in``)
    in two grouped queries, however many events and registrations there are."""
    statuses = registration_lists.counts_by_event(event_ids)
    present = checkin.people_checked_in(event_ids)
    return {
        event_id: {
            "confirmed": statuses[event_id][RegistrationStatus.CONFIRMED],
            "waitlisted": statuses[event_id][RegistrationStatus.WAITLISTED],
            "checked_in": present[event_id],
        }
        for event_id in event_ids
    }


def event_json(event: Event, counts: dict[str, int] | None = None) -> dict:
    """The event as the API shows it; ``counts`` from ``event_counts`` (computed when
    omitted: pass them when serialising many events)."""
    if counts is None:
        counts = event_counts([event.id])[event.id]
    return {
        "id": event.id,
        "title": event.title,
        "description": event.description,
        "venue": event.venue,
        "starts_at": iso_wib(event.starts_at),
        "ends_at": iso_wib(event.ends_at),
        "days": [d.isoformat() for d in event.day_dates],
        "capacity": event.capacity,
        "unit_quota": event.unit_quota,
        "waitlist": event.waitlist,
        "registration_opens_at": iso_wib(event.registration_opens_at),
        "registration_closes_at": iso_wib(event.registration_closes_at),
        "status": str(event.status),
        "unit_id": event.unit_id,
        "speakers": [{"name": s.name, "affiliation": s.affiliation} for s in event.speakers],
        "agenda": [
            {"starts_at": iso_wib(a.starts_at), "title": a.title, "speaker": a.speaker}
            for a in event.agenda
        ],
        "owner_id": event.owner_id,
        "confirmed": counts["confirmed"],
        "waitlisted": counts["waitlisted"],
        "checked_in": counts["checked_in"],
    }


def registration_json(reg: Registration, waitlist_position: int | None) -> dict:
    """A registration for its organizer (DESIGN.md field names); ``waitlist_position`` from
    ``services.registration`` (None unless waitlisted). ``manage_url`` is the private,
    absolute link to the participant's page (/r/<token>)."""
    return {
        "id": reg.id,
        "event_id": reg.event_id,
        "name": reg.name,
        "email": reg.email,
        "phone": reg.phone,
        "nip": reg.nip,
        "employment_status": reg.employment_status,
        "position": reg.position,
        "unit_id": reg.unit_id,
        "institution": reg.institution,
        "role": str(reg.role),
        "status": str(reg.status),
        "waitlist_position": waitlist_position,
        "check_in_code": reg.check_in_code,
        "manage_url": url_for("registration.manage", token=reg.manage_token, _external=True),
        "created_at": iso_wib(reg.created_at),
    }


def door_registration_json(reg: Registration) -> dict:
    """What the door sees of a registration: no contact details and no secrets."""
    return {
        "id": reg.id,
        "event_id": reg.event_id,
        "name": reg.name,
        "position": reg.position,
        "unit_id": reg.unit_id,
        "institution": reg.institution,
        "affiliation": reg.affiliation,
        "role": str(reg.role),
        "status": str(reg.status),
    }


def unit_json(unit: Unit) -> dict:
    return {"id": unit.id, "name": unit.name, "short_name": unit.short_name}


def listing(items: list[dict]) -> dict:
    return {"items": items, "count": len(items)}
