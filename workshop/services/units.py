"""Work units (SKPD/OPD)."""

from flask_babel import lazy_gettext as _l

from workshop.models import Unit, UnitKind, User, db
from workshop.services import audit
from workshop.services.errors import ValidationError


def active_units() -> list[Unit]:
    return list(db.session.scalars(db.select(Unit).where(Unit.active).order_by(Unit.name)))


def all_units() -> list[Unit]:
    return list(db.session.scalars(db.select(Unit).order_by(Unit.active.desc(), Unit.name)))


def save_unit(
    unit: Unit | None, *, name: str, short_name: str, kind: str, active: bool, actor: User
) -> Unit:
    """Create (unit None) or update a unit. Names and short names are unique."""
    name, short_name = name.strip(), short_name.strip()
    errors: dict[str, list[str]] = {}
    if not name or len(name) > 200:
        errors["name"] = [str(_l("Nama wajib diisi, paling banyak 200 karakter."))]
    if not short_name or len(short_name) > 60:
        errors["short_name"] = [str(_l("Singkatan wajib diisi, paling banyak 60 karakter."))]
    if kind not in set(UnitKind):
        errors["kind"] = [str(_l("Jenis unit tidak dikenal."))]
    own_id = unit.id if unit else None
    unique_fields = (("name", Unit.name, name), ("short_name", Unit.short_name, short_name))
    for field, column, value in unique_fields:
        if field not in errors:
            other = db.session.scalar(db.select(Unit).where(column == value))
            if other is not None and other.id != own_id:
                errors[field] = [str(_l("Sudah dipakai unit lain."))]
    if errors:
        raise ValidationError(errors)
    created = unit is None
    if created:
        unit = Unit()
        db.session.add(unit)
    unit.name, unit.short_name, unit.kind, unit.active = name, short_name, UnitKind(kind), active
    db.session.flush()
    audit.record(actor, "unit.create" if created else "unit.update", unit)
    return unit
