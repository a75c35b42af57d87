"""Checking and normalising Indonesian identity details: NIP, NI PPPK, phone numbers."""

import re
from datetime import date

from flask_babel import lazy_gettext as _l

SEPARATORS = re.compile(r"[\s.\-]")
PHONE_ALLOWED = re.compile(r"^\+?[\d\s.\-()]+$")


class IdentityError(ValueError):
    """The value is wrong; str(error) says how to fix it."""


def nip_digits(raw: str) -> str:
    """The digits of a NIP as typed with or without spaces, dots or dashes."""
    return SEPARATORS.sub("", raw or "")


def check_nip(raw: str, today: date) -> str:
    """A civil servant's NIP (18 digits: birth date YYYYMMDD, appointment YYYYMM,
    gender 1/2, sequence not 000), returned as 18 digits. Raises IdentityError."""
    digits = nip_digits(raw)
    if not re.fullmatch(r"\d{18}", digits):
        raise IdentityError(_l("NIP harus 18 digit angka (spasi, titik, dan tanda hubung boleh)."))
    try:
        birth = date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        birth = None
    if birth is None or birth.year < 1900 or birth >= today:
        raise IdentityError(_l("8 digit pertama NIP harus tanggal lahir yang valid (TTTTBBHH)."))
    year, month = int(digits[8:12]), int(digits[12:14])
    if not (1 <= month <= 12) or (year, month) <= (birth.year, birth.month) or year > today.year:
        raise IdentityError(
            _l("Digit 9–14 NIP harus tahun dan bulan pengangkatan (TTTTBB) setelah tanggal lahir.")
        )
    if digits[14] not in "12":
        raise IdentityError(_l("Digit ke-15 NIP (jenis kelamin) harus 1 atau 2."))
    if digits[15:] == "000":
        raise IdentityError(_l("Tiga digit terakhir NIP (nomor urut) tidak boleh 000."))
    return digits


def check_pppk_number(raw: str) -> str:
    """An NI PPPK: 18 digits (its layout differs from a NIP's). Raises IdentityError."""
    digits = nip_digits(raw)
    if not re.fullmatch(r"\d{18}", digits):
        raise IdentityError(_l("NI PPPK harus 18 digit angka."))
    return digits


def normalise_phone(raw: str) -> str:
    """An Indonesian phone number as +62…: accepts 0812-3456-7890, +62 812 3456 7890,
    62812…, (0734) 421234. Raises IdentityError."""
    raw = (raw or "").strip()
    if not PHONE_ALLOWED.fullmatch(raw):
        raise IdentityError(
            _l("Nomor telepon hanya boleh berisi angka, spasi, tanda hubung, dan + di depan.")
        )
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+"):
        if not digits.startswith("62"):
            raise IdentityError(_l("Gunakan nomor Indonesia (+62)."))
        rest = digits[2:]
    elif digits.startswith("62"):
        rest = digits[2:]
    elif digits.startswith("0"):
        rest = digits[1:]
    else:
        raise IdentityError(_l("Gunakan format seperti 0812-3456-7890 atau +62 812 3456 7890."))
    if not re.fullmatch(r"[1-9]\d{6,12}", rest):
        raise IdentityError(_l("Nomor telepon terlalu pendek atau terlalu panjang."))
    return "+62" + rest
