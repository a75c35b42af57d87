"""QR codes as PNG, SVG or a module matrix. Pure functions: bytes in, bytes out."""

import io
from functools import lru_cache

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def _qr(data: str, border: int = 4) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=border)
    code.add_data(data)
    code.make(fit=True)
    return code


@lru_cache(maxsize=256)
def matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    """The modules of the QR code for ``data`` (no quiet zone), row by row."""
    return tuple(tuple(row) for row in _qr(data, border=0).get_matrix())


def png(data: str, scale: int = 8, border: int = 4) -> bytes:
    """A black-on-white PNG, ``scale`` pixels per module, with a ``border``-module quiet zone."""
    code = _qr(data, border=border)
    code.box_size = scale
    image = code.make_image(fill_color="black", back_color="white")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def svg(data: str) -> bytes:
    """A scalable SVG (one path), for printing at any size."""
    image = _qr(data).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()
