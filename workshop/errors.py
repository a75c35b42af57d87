"""One error renderer: JSON under /api, friendly HTML pages elsewhere."""

from flask import current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
}

MESSAGES = {
    400: _l("Permintaan tidak dapat diproses."),
    401: _l("Silakan masuk terlebih dahulu."),
    403: _l("Anda tidak memiliki akses ke halaman ini."),
    404: _l("Halaman yang Anda cari tidak ditemukan."),
    405: _l("Metode ini tidak diizinkan untuk alamat ini."),
    413: _l("Berkas atau data yang dikirim terlalu besar."),
    429: _l("Terlalu banyak permintaan. Silakan coba lagi sebentar lagi."),
    500: _l("Terjadi kesalahan pada server. Silakan coba lagi nanti."),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, message: str, error: str | None = None, fields=None):
    body = {"error": error or ERROR_CODES.get(status, "error"), "message": str(message)}
    if fields:
        body["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    return response


def handle_http_exception(exc: HTTPException):
    status = exc.code or 500
    message = MESSAGES.get(status, exc.description)
    if isinstance(exc, CSRFError):
        message = _l("Sesi formulir sudah kedaluwarsa. Muat ulang halaman lalu coba lagi.")
    if wants_json():
        response = json_error(status, message)
    else:
        template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/error.html"
        response = current_app.make_response(
            (render_template(template, status=status, message=message), status)
        )
    # Keep headers such as Allow (405) and Retry-After (429).
    for key, value in exc.get_headers():
        if key.lower() != "content-type":
            response.headers[key] = value
    return response


def handle_unexpected(exc: Exception):
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    return handle_http_exception(InternalServerError())


def register(app) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
