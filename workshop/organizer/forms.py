"""The event form: plain fields, a list of event days, and repeating speaker/agenda rows.

The form only parses input into types (numbers, WIB datetimes, dates); every rule about
what an event may look like lives in services.events.validate_event, whose errors are
mapped back onto these fields by ``apply_service_errors``.
"""

import re
from datetime import date, datetime
from typing import ClassVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import StopValidation
from wtforms.validators import ValidationError as FormValidationError

from workshop.models import Event, Unit
from workshop.services import events
from workshop.services.events import AgendaInput, EventInput, SpeakerInput
from workshop.timeutil import to_wib

INPUT_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends
BLANK_ROWS = 2  # empty speaker/agenda rows always offered, so adding works without JS


class Required:
    """Marks a field required (asterisk, browser hint) and says so in Indonesian when empty."""

    field_flags: ClassVar[dict] = {"required": True}

    def __call__(self, form, field):
        if field.errors:
            raise StopValidation()
        if field.data is None or (isinstance(field.data, str) and not field.data.strip()):
            raise StopValidation(_("Wajib diisi."))


class ServiceChecked:
    """Marks a field required for display; the service checks it (one rule, one message)."""

    field_flags: ClassVar[dict] = {"required": True}

    def __call__(self, form, field):
        pass


class WibDateTimeField(DateTimeLocalField):
    """A datetime-local input read as WIB wall-clock time (naive); blank means None."""

    def __init__(self, label=None, validators=None, **kwargs):
        formats = [INPUT_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        super().__init__(label, validators, format=formats, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0].strip()
        self.data = None
        if not text:
            return
        for fmt in self.strptime_format:
            try:
                self.data = datetime.strptime(text, fmt)
                return
            except ValueError:
                continue
        raise ValueError(_("Tanggal dan jam tidak dikenali. Tulis seperti 2018-03-08T08:00."))


class OptionalIntegerField(IntegerField):
    """A whole number, or None when left blank."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0].strip()
        self.data = None
        if not text:
            return
        if not re.fullmatch(r"[+-]?[0-9]{1,18}", text):
            raise ValueError(_("Isi dengan bilangan bulat, misalnya 40."))
        self.data = int(text)


DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")


class DateListField(StringField):
    """Dates separated by commas, semicolons, spaces or new lines (2018-03-08 or 08/03/2018)."""

    def process_data(self, value):
        self.data = list(value) if value else []

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = []
        bad = []
        for token in re.split(r"[,;\s]+", valuelist[0].strip()):
            if not token:
                continue
            parsed = _parse_date(token)
            if parsed is None:
                bad.append(token)
            else:
                self.data.append(parsed)
        if bad:
            raise ValueError(
                _(
                    "Tanggal tidak dikenali: %(values)s. Tulis seperti 2018-03-08.",
                    values=", ".join(bad[:5]),
                )
            )

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return ", ".join(d.isoformat() for d in self.data or [])


def _parse_date(token: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(token, fmt).date()
        except ValueError:
            continue
    return None


def _unit_id(value):
    """Select value -> unit id; blank is None, anything unparseable an id no unit has."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _blank(*values) -> bool:
    return all(not (v or "").strip() for v in values)


class SpeakerRow(Form):
    name = StringField(_l("Nama dan gelar"), render_kw={"maxlength": events.NAME_MAX})
    affiliation = StringField(_l("Instansi atau jabatan"), render_kw={"maxlength": events.NAME_MAX})

    def is_blank(self) -> bool:
        return _blank(self.name.data, self.affiliation.data)


class AgendaRow(Form):
    starts_at = WibDateTimeField(_l("Waktu mulai (WIB)"))
    title = StringField(_l("Acara"), render_kw={"maxlength": events.AGENDA_TITLE_MAX})
    speaker = StringField(_l("Pembicara"), render_kw={"maxlength": events.NAME_MAX})

    def is_blank(self) -> bool:
        raw = self.starts_at.raw_data[0] if self.starts_at.raw_data else ""
        return self.starts_at.data is None and _blank(raw, self.title.data, self.speaker.data)

    def validate_starts_at(self, field):
        if field.errors or field.data is not None or self.is_blank():
            return
        raise FormValidationError(_("Isi waktu mulai acara ini."))


class EventForm(FlaskForm):
    title = StringField(
        _l("Judul kegiatan"), [ServiceChecked()], render_kw={"maxlength": events.TITLE_MAX}
    )
    description = TextAreaField(_l("Deskripsi"), render_kw={"rows": 6})
    venue = StringField(_l("Tempat"), [ServiceChecked()], render_kw={"maxlength": events.VENUE_MAX})
    starts_at = WibDateTimeField(_l("Mulai (WIB)"), [Required()])
    ends_at = WibDateTimeField(_l("Selesai (WIB)"), [Required()])
    days = DateListField(_l("Hari kegiatan"))
    unit_id = SelectField(_l("Unit kerja penyelenggara"), coerce=_unit_id, validate_choice=False)
    capacity = OptionalIntegerField(_l("Kapasitas peserta"), render_kw={"min": 1})
    unit_quota = OptionalIntegerField(_l("Kuota per unit kerja"), render_kw={"min": 1})
    waitlist = BooleanField(_l("Aktifkan daftar tunggu"), default=True)
    registration_opens_at = WibDateTimeField(_l("Pendaftaran dibuka (WIB)"))
    registration_closes_at = WibDateTimeField(_l("Pendaftaran ditutup (WIB)"))
    speakers = FieldList(FormField(SpeakerRow))
    agenda = FieldList(FormField(AgendaRow))

    def __init__(self, *args, units: list[Unit] = (), current_unit: Unit | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.list_errors: dict[str, list[str]] = {}
        choices = [("", _("— pilih —"))] + [(u.id, u.name) for u in units]
        if current_unit is not None and all(u.id != current_unit.id for u in units):
            choices.append((current_unit.id, _("%(name)s (nonaktif)", name=current_unit.name)))
        self.unit_id.choices = choices
        self.add_blank_rows()

    @classmethod
    def data_from_event(cls, event: Event) -> dict:
        """Initial values for editing ``event``: WIB wall-clock times, days only if chosen."""

        def local(value):
            return to_wib(value).replace(tzinfo=None) if value else None

        return {
            "title": event.title,
            "description": event.description,
            "venue": event.venue,
            "starts_at": local(event.starts_at),
            "ends_at": local(event.ends_at),
            "days": [] if events.uses_default_days(event) else event.day_dates,
            "unit_id": event.unit_id,
            "capacity": event.capacity,
            "unit_quota": event.unit_quota,
            "waitlist": event.waitlist,
            "registration_opens_at": local(event.registration_opens_at),
            "registration_closes_at": local(event.registration_closes_at),
            "speakers": [{"name": s.name, "affiliation": s.affiliation} for s in event.speakers],
            "agenda": [
                {"starts_at": local(a.starts_at), "title": a.title, "speaker": a.speaker}
                for a in event.agenda
            ],
        }

    def add_blank_rows(self) -> None:
        """Keep BLANK_ROWS empty rows at the end of each list (the no-JavaScript way to add)."""
        for rows in (self.speakers, self.agenda):
            trailing = 0
            for entry in reversed(rows.entries):
                if not entry.form.is_blank():
                    break
                trailing += 1
            for _i in range(BLANK_ROWS - trailing):
                rows.append_entry()

    def event_input(self) -> EventInput | None:
        """The typed values as an EventInput, or None while the start or end is missing."""
        if self.starts_at.data is None or self.ends_at.data is None:
            return None
        speakers = [
            SpeakerInput(row.name.data or "", row.affiliation.data or "")
            for row in (entry.form for entry in self.speakers)
            if not row.is_blank()
        ]
        agenda = [
            AgendaInput(row.starts_at.data, row.title.data or "", row.speaker.data or "")
            for row in (entry.form for entry in self.agenda)
            if not row.is_blank() and row.starts_at.data is not None
        ]
        return EventInput(
            title=self.title.data or "",
            venue=self.venue.data or "",
            description=self.description.data or "",
            starts_at=self.starts_at.data,
            ends_at=self.ends_at.data,
            days=self.days.data or None,
            capacity=self.capacity.data,
            unit_quota=self.unit_quota.data,
            waitlist=bool(self.waitlist.data),
            registration_opens_at=self.registration_opens_at.data,
            registration_closes_at=self.registration_closes_at.data,
            unit_id=self.unit_id.data,
            speakers=speakers,
            agenda=agenda,
        )

    def apply_service_errors(self, fields: dict[str, list[str]]) -> None:
        """Show a service ValidationError next to the fields it names."""
        for name, messages in fields.items():
            if name in ("speakers", "agenda"):
                self.list_errors.setdefault(name, []).extend(messages)
            elif name in self._fields:
                field = self[name]
                field.errors = [*field.errors, *(m for m in messages if m not in field.errors)]
            else:
                self.form_errors.extend(messages)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.list_errors)


class ConfirmForm(FlaskForm):
    """An empty form: a POST button with its CSRF token (publish, cancel)."""
