"""The errors Retouch raises on purpose. Anything else escaping to a user is a bug."""

from __future__ import annotations


class RetouchError(Exception):
    """A failure with a stable machine-readable `code` and a sentence for people."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InputError(RetouchError):
    """The caller sent something we cannot work with (HTTP 4xx, exit code 2)."""

    code = "invalid_input"


class Cancelled(RetouchError):
    """The job was cancelled; raised from inside an engine at a step boundary."""

    code = "canceled"

    def __init__(self, message: str = "the job was cancelled") -> None:
        super().__init__(message)


class EngineError(RetouchError):
    """An engine could not run (missing weights, out of memory, native failure)."""

    code = "engine_error"
