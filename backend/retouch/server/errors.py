"""Every error leaves the API as JSON `{code, message}` with a 4xx; a 500 is a bug."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from retouch.errors import InputError, RetouchError
from retouch.recipe import describe_errors

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    503: "unavailable",
    507: "insufficient_storage",
}


#: statuses of the errors the store raises on purpose (`StorageFull`, `ImageGone`, `DatabaseBusy`)
_STATUS_OF_CODE = {"insufficient_storage": 507, "gone": 410, "database_busy": 503}
#: seconds a client is asked to wait before trying a busy database again
RETRY_AFTER = 2


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class BodyTooLarge(ApiError):
    """Raised while a request body streams in, once it passed its limit (see `guard.BodyLimit`)."""

    def __init__(self, message: str) -> None:
        super().__init__(413, "too_large", message)


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"code": code, "message": message}).encode()


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


def internal_error(what: str) -> str:
    """Log the exception being handled under a fresh id and return the message a client gets: no exception
    text, no paths, just where to look."""
    incident = secrets.token_hex(4)
    log.exception("%s (error id %s)", what, incident)
    return incident_message(incident)


def incident_message(incident: str) -> str:
    """What a client is told of a bug: where to look, never the exception's text."""
    return f"internal error, see the server log (error id {incident})"


def _methods_at(request: Request) -> set[str]:
    """Every method some route serves at the request's path (Starlette's own 405 names only the first route's,
    or the canvas's static files')."""
    methods = set()
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        routes = (route for route in request.app.router.routes if not isinstance(route, Mount))
        if any(route.matches(scope)[0] is Match.FULL for route in routes):
            methods |= {method, "HEAD"} if method == "GET" else {method}
    return methods


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        return error_response(422, exc.code, exc.message)

    @app.exception_handler(RetouchError)
    async def _retouch_error(request: Request, exc: RetouchError) -> JSONResponse:
        status = _STATUS_OF_CODE.get(exc.code)
        if status is None:
            return error_response(500, "internal_error", internal_error(f"unhandled error on {request.url.path}"))
        headers = {"Retry-After": str(RETRY_AFTER)} if status == 503 else None
        return error_response(status, exc.code, exc.message, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid_input", describe_errors(list(exc.errors())))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        code = _CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"nothing at {request.url.path}"
        if exc.status_code == 400 and message == "There was an error parsing the body":  # FastAPI's words
            message = "the request body could not be read; send JSON in UTF-8"
        headers = exc.headers
        if exc.status_code == 405:
            allowed = _methods_at(request)
            headers = {**(headers or {}), "Allow": ", ".join(sorted(allowed))}
            message = f"{request.method} is not allowed at {request.url.path}; allowed: {', '.join(sorted(allowed))}"
        return error_response(exc.status_code, code, message, headers=headers)


class Unhandled:
    """A bug in a route is answered here with a 500 `{code, message}` and ends there.

    Starlette's own last-resort handler (`ServerErrorMiddleware`) sends its 500 and then raises the exception
    again for the server to log; uvicorn then closes the connection, so a keep-alive client's next request
    failed with "connection reset". This sits inside it, logs the bug once under an error id, and returns.
    Only a failure after the answer began (nothing sensible left to send) still ends the connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            if started:
                raise
            message = internal_error(f"unhandled error on {scope['path']}")
            await error_response(500, "internal_error", message)(scope, receive, send)
