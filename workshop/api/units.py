"""Work units (SKPD/OPD) in the JSON API."""

from workshop.api import schemas
from workshop.services.units import active_units


def list_units():
    """The active work units, by name."""
    return schemas.listing([schemas.unit_json(u) for u in active_units()])
