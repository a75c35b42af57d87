"""Work units (SKPD/OPD: the regency's regional work units)."""

from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from workshop.models.base import Base


class UnitKind(StrEnum):
    SECRETARIAT = "secretariat"  # sekretariat (Setda and its bagian, Setwan)
    INSPECTORATE = "inspectorate"  # inspektorat
    AGENCY = "agency"  # badan
    OFFICE = "office"  # dinas, satpol PP
    HOSPITAL = "hospital"  # RSUD
    DISTRICT = "district"  # kecamatan
    OTHER = "other"


class Unit(Base):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[UnitKind] = mapped_column(String(20), default=UnitKind.OTHER)
    active: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return f"<Unit {self.short_name}>"
