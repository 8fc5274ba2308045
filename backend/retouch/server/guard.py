"""What every request passes before any route: the Host and Origin checks, the token, the body limit, and the
security headers on every answer. Plain ASGI, so it covers HTTP and websockets, the API and the canvas alike,
and runs before anything reads a body.
"""

from __future__ import annotations

import html
import secrets
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from retouch.server.errors import BodyTooLarge, error_body
from retouch.server.settings import Settings, is_loopback

API_PREFIX = "/api/v1"
HEALTH_PATH = f"{API_PREFIX}/health"
UPLOAD_PATH = f"{API_PREFIX}/images"
JSON_BODY_LIMIT = 1 << 20  # jobs are small; only uploads may be large
MULTIPART_OVERHEAD = 64 * 1024  # part headers and boundaries around an upload
TOKEN_COOKIE = "retouch_token"
WILDCARD_HOSTS = {"0.0.0.0", "::", ""}

#: Every answer says: do not guess content types, never frame me, send no referrer (a URL may hold the token).
COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
#: The canvas page: its own scripts and styles, pictures from itself and from data:/blob: URLs, the API and its
#: websocket on the same host; never framed. The one inline handler the page has (`onsubmit="return false"` on
#: its settings form) is allowed by its hash, nothing else inline.
INLINE_HANDLERS = "'unsafe-hashes' 'sha256-GZIcz60Uwd6wT3vaYke/atSr53TehbYAPepOa3d03Vw='"
PAGE_POLICY = (
    f"default-src 'self'; script-src 'self' {INLINE_HANDLERS}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self' ws://{host} wss://{host}; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def host_name(host_header: str) -> str:
    """`example.org:8000` -> `example.org`, `[::1]:8000` -> `::1`."""
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")] if "]" in host_header else host_header
    name, _, port = host_header.rpartition(":")
    return name if name and port.isdigit() else host_header


class Guard:
    """Refuse what another site or an unauthenticated client must never reach, before any route runs.

    - Host: only names this server serves (loopback names, the address it listens on, `allowed_hosts`), which
      defeats DNS rebinding. Listening on every address (0.0.0.0) with no `allowed_hosts` accepts any name:
      the token guards that server.
    - Origin: a browser's request from another origin (HTTP or websocket) is refused, unless listed in
      `allowed_origins`; so is a cross-site fetch (`Sec-Fetch-Site`) that is not a page navigation.
    - Token (when set): everything but a minimal health answer needs it. The canvas page may be opened once
      with `?token=`; that answer sets an HttpOnly, SameSite=Strict cookie which serves the page and its
      assets (never the API, which takes the token as a header or `?token=`).
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.settings = app, settings
        self.any_host = "*" in settings.allowed_hosts or (
            settings.host in WILDCARD_HOSTS and not settings.allowed_hosts
        )
        self.hosts = {name.lower() for name in settings.allowed_hosts} | {"localhost", settings.host.lower()}
        self.origins = {origin.rstrip("/").lower() for origin in settings.allowed_origins}

    def host_allowed(self, host_header: str) -> bool:
        name = host_name(host_header).lower()
        return self.any_host or name in self.hosts or is_loopback(name) or name.endswith(".localhost")

    def origin_allowed(self, origin: str, host_header: str, scheme: str) -> bool:
        """The server's own origin (its scheme as the request came: `http` for a plain server, `https` behind a
        TLS proxy that says so) or one listed; `https://host` is another origin than `http://host`."""
        origin = origin.rstrip("/").lower()
        if origin in self.origins:
            return True
        parts = urlsplit(origin)
        own = {"ws": "http", "wss": "https"}.get(scheme, scheme)
        return parts.scheme == own and parts.netloc == host_header.lower()

    def given_token(self, scope: Scope, headers: dict[bytes, bytes]) -> tuple[str | None, bool]:
        """The token the request carries, and whether it came in the query string."""
        scheme, _, credentials = headers.get(b"authorization", b"").decode("latin-1").strip().partition(" ")
        if scheme.lower() == "bearer":  # an auth scheme's name is case-insensitive (RFC 9110, 11.1)
            return credentials.strip(), False
        if header := headers.get(b"x-retouch-token"):
            return header.decode("latin-1"), False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if query.get("token"):
            return query["token"][0], True
        if not scope["path"].startswith(API_PREFIX) and (cookie := headers.get(b"cookie")):
            jar = SimpleCookie()
            try:
                jar.load(cookie.decode("latin-1"))
            except CookieError:  # a malformed cookie header is no token
                return None, False
            if TOKEN_COOKIE in jar:
                return jar[TOKEN_COOKIE].value, False
        return None, False

    def foreign(self, headers: dict[bytes, bytes], host: str, scheme: str) -> tuple[int, str, str] | None:
        """Why a request is refused as coming from elsewhere (status, code, message), or None."""
        if not self.host_allowed(host):
            message = (
                f"this server does not answer to the host name {host_name(host)!r}; "
                "add it with --allowed-host (RETOUCH_ALLOWED_HOSTS) if it is yours"
            )
            return 403, "forbidden_host", message
        origin = headers.get(b"origin")
        if origin is not None and not self.origin_allowed(origin.decode("latin-1"), host, scheme):
            message = (
                f"requests from the page at {origin.decode('latin-1')!r} are not allowed; open the canvas "
                "from this server, or add the origin with --allowed-origin"
            )
            return 403, "forbidden_origin", message
        if headers.get(b"sec-fetch-site") == b"cross-site" and headers.get(b"sec-fetch-mode") != b"navigate":
            return 403, "forbidden_origin", "requests from another site are not allowed"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode("latin-1")
        refusal = self.foreign(headers, host, scope.get("scheme", "http"))
        set_cookie = None
        authorized = True
        if refusal is None and (expected := self.settings.token):
            given, from_query = self.given_token(scope, headers)
            authorized = given is not None and secrets.compare_digest(given.encode(), expected.encode())
            if authorized and from_query and scope["type"] == "http" and not scope["path"].startswith(API_PREFIX):
                set_cookie = expected
            if not authorized and scope["path"] != HEALTH_PATH:
                message = (
                    "this server needs an access token: Authorization: Bearer TOKEN "
                    "(or open the canvas once as /?token=TOKEN)"
                )
                refusal = (401, "unauthorized", message)
        scope.setdefault("state", {})["authorized"] = authorized
        if refusal is not None:
            status, code, message = refusal
            if scope["type"] == "websocket":
                await refuse_handshake(scope, receive, send, status, code, message)
            elif b"text/html" in headers.get(b"accept", b"") and not scope["path"].startswith(API_PREFIX):
                await send_page(send, status, message)  # a person at the canvas's address reads why
            else:
                await send_error(send, status, code, message, unauthorized=status == 401)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        page = not scope["path"].startswith(API_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in COMMON_HEADERS:
                    response_headers.append(name.decode(), value.decode())
                # the canvas's policy on all its files: a 304 for the page carries no content type, and a
                # browser applies the policy it brings to the cached page
                policy = PAGE_POLICY.format(host=host) if page else API_POLICY
                response_headers.append("content-security-policy", policy)
                if set_cookie is not None:
                    response_headers.append(
                        "set-cookie", f"{TOKEN_COOKIE}={set_cookie}; Path=/; HttpOnly; SameSite=Strict"
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def send_error(send: Send, status: int, code: str, message: str, *, unauthorized: bool = False) -> None:
    body = error_body(code, message)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *COMMON_HEADERS,
        (b"content-security-policy", API_POLICY.encode()),
    ]
    if unauthorized:
        headers.append((b"www-authenticate", b'Bearer realm="retouch"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_page(send: Send, status: int, message: str) -> None:
    body = (
        f"<!doctype html><meta charset=utf-8><title>Retouch</title><h1>Retouch</h1><p>{html.escape(message)}</p>"
    ).encode()
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        *COMMON_HEADERS,
        (b"content-security-policy", API_POLICY.encode()),
    ]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="retouch"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def refuse_handshake(scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str) -> None:
    """Refuse a websocket before accepting it: an HTTP answer with the JSON error where the server can send one,
    else a close (which the server turns into 403)."""
    connect = await receive()
    if connect["type"] != "websocket.connect":
        return
    if "websocket.http.response" in scope.get("extensions", {}):
        body = error_body(code, message)
        await send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})


class BodyLimit:
    """Count every request body as it streams and cut it off at the limit with a 413, whether it came with a
    Content-Length or chunked. Uploads may be `max_upload_bytes` (plus multipart framing); JSON bodies 1 MiB."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_upload = scope["path"].rstrip("/") == UPLOAD_PATH
        limit = self.settings.max_upload_bytes + MULTIPART_OVERHEAD if is_upload else JSON_BODY_LIMIT
        what = "uploads" if is_upload else "request bodies"
        message = f"{what} are limited to {limit} bytes"
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await send_error(send, 413, "too_large", message)
            return
        received = 0
        exceeded = False
        started = False

        async def counted() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise BodyTooLarge(message)
            incoming = await receive()
            if incoming["type"] == "http.request":
                received += len(incoming.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(message)
            return incoming

        async def watched(outgoing: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # whatever the app answers to the cut body, the client gets the 413 below
            if outgoing["type"] == "http.response.start":
                started = True
            await send(outgoing)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await send_error(send, 413, "too_large", message)
