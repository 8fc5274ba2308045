"""A real HTTP file server on 127.0.0.1 for download tests: serves a folder with HTTP Range support, records each
request (path, Range header, bytes sent), and can drop the connection half way through a file once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Served:
    path: str
    range: str | None
    status: int
    sent: int


@dataclass
class FileServer:
    root: Path
    url: str = ""
    log: list[Served] = field(default_factory=list)
    #: file name -> bytes after which the next response for it is cut (the connection dropped), once
    cut_after: dict[str, int] = field(default_factory=dict)
    #: file name -> (bytes, gate): the next response for it pauses after that many bytes until the gate opens
    hold: dict[str, tuple[int, threading.Event]] = field(default_factory=dict)
    #: path prefix -> HTTP status every request under it gets (e.g. a hub API answering 401 for a gated model)
    refuse: dict[str, int] = field(default_factory=dict)

    def sent(self, name: str) -> int:
        return sum(s.sent for s in self.log if s.path == "/" + name)


def _handler(server: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            refused = next((code for prefix, code in server.refuse.items() if self.path.startswith(prefix)), None)
            if refused is not None:
                self.send_error(refused)
                server.log.append(Served(self.path, None, refused, 0))
                return
            name = self.path.lstrip("/")
            path = server.root / name
            if "/" in name or not path.is_file():
                self.send_error(404)
                server.log.append(Served(self.path, None, 404, 0))
                return
            size = path.stat().st_size
            start, status = 0, 200
            given = self.headers.get("Range")
            if given and given.startswith("bytes=") and given.endswith("-"):
                start = int(given[6:-1])
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    server.log.append(Served(self.path, given, 416, 0))
                    return
                status = 206
            self.send_response(status)
            self.send_header("Content-Length", str(size - start))
            self.send_header("Accept-Ranges", "bytes")
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
            self.end_headers()
            self.wfile.flush()
            limit = server.cut_after.pop(name, None)
            count = size - start if limit is None else max(0, limit - start)
            held = server.hold.pop(name, None)
            with open(path, "rb") as handle:
                if held is not None and start < held[0] < start + count:
                    sent = self.connection.sendfile(handle, start, held[0] - start)
                    held[1].wait(60)
                    sent += self.connection.sendfile(handle, held[0], start + count - held[0])
                else:
                    sent = self.connection.sendfile(handle, start, count)
            server.log.append(Served(self.path, given, status, sent))
            if limit is not None:  # the connection drops half way
                self.close_connection = True
                self.connection.shutdown(2)

    return Handler


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` serving on 127.0.0.1 (a free port) on its own threads while the block runs; yields its URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def serving(root: Path) -> Iterator[FileServer]:
    """Serve `root` on 127.0.0.1 (a free port) while the block runs."""
    state = FileServer(root)
    with http_server(_handler(state)) as state.url:
        yield state
