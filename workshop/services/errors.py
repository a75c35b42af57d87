"""Domain errors raised by services; views turn them into messages or JSON."""


class DomainError(Exception):
    """A rule said no. ``code`` is machine-readable, ``message`` is for people."""

    code = "error"
    status = 409

    def __init__(self, message: str = "", code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class ValidationError(DomainError):
    """Input broke one or more field rules; ``fields`` maps field name to messages."""

    code = "invalid"
    status = 422

    def __init__(self, fields: dict[str, list[str]], message: str = ""):
        super().__init__(message or "invalid input")
        self.fields = fields


class NotFound(DomainError):
    """Unknown, or someone else's: views answer 404 either way."""

    code = "not_found"
    status = 404


class NotAllowed(DomainError):
    code = "forbidden"
    status = 403


class InvalidTransition(DomainError):
    code = "invalid_transition"
    status = 409
