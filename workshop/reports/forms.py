"""The filters above the report pages (GET: they change nothing, so no CSRF)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional


class _GetForm(FlaskForm):
    class Meta:
        csrf = False


class PeriodForm(_GetForm):
    """The period of the per-unit report; the same parameter names as the API."""

    start = StringField(_l("Dari tanggal"), name="from", render_kw={"type": "date"})
    end = StringField(_l("Sampai tanggal"), name="to", render_kw={"type": "date"})


class PersonSearchForm(_GetForm):
    q = StringField(
        _l("Cari nama, NIP, atau email"),
        validators=[Optional(), Length(max=100)],
        render_kw={"type": "search", "autocomplete": "off", "maxlength": 100},
    )


class UnitYearForm(_GetForm):
    unit_id = SelectField(_l("Unit kerja"), coerce=int, validate_choice=False)
    year = SelectField(_l("Tahun"), coerce=int, validate_choice=False)

    def __init__(self, *args, units=(), years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unit_id.choices = [(0, _l("Pilih unit kerja"))] + [(u.id, u.name) for u in units]
        self.year.choices = [(y, str(y)) for y in years]
