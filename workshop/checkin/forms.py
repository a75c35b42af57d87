"""Forms of the check-in (presensi) blueprint: the door page and door staff assignment."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SearchField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, ValidationError

REQUIRED = _l("Wajib diisi.")


class ScanForm(FlaskForm):
    """The field a handheld scanner types into (the page's script posts it as JSON)."""

    code = StringField(
        _l("Kode tiket (pemindai genggam)"),
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "off",
            "autocorrect": "off",
            "spellcheck": "false",
            "enterkeyhint": "send",
        },
    )


class SearchForm(FlaskForm):
    """Search by name, NIP or unit for people without their ticket."""

    class Meta:
        csrf = False  # a read-only lookup

    q = SearchField(
        _l("Cari nama, NIP, atau unit kerja"),
        render_kw={
            "autocomplete": "off",
            "enterkeyhint": "search",
            "minlength": 2,
            "maxlength": 100,
        },
    )


class StaffChoiceField(SelectField):
    """A select whose "not one of the options" message is in the user's language."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.type = "SelectField"

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:  # not a number: reported by pre_validate below
            self.data = None

    def pre_validate(self, form):
        if self.data not in {value for value, _label in self.choices}:
            raise ValidationError(_l("Pilih petugas dari daftar."))


class AssignStaffForm(FlaskForm):
    action = HiddenField(default="assign")
    user_id = StaffChoiceField(
        _l("Petugas"), coerce=int, validators=[InputRequired(message=REQUIRED)]
    )

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user_id.choices = [(u.id, f"{u.name} ({u.email})") for u in candidates]


class RemoveStaffForm(FlaskForm):
    action = HiddenField(default="remove")
    user_id = IntegerField(validators=[DataRequired(message=REQUIRED)])
