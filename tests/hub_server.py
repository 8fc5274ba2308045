"""A real HTTP server on 127.0.0.1 that answers as the Hugging Face hub does for downloads, so that
`huggingface_hub.snapshot_download` (with `HF_ENDPOINT` pointing here) fetches folders made by the tests: the
repository's revision, its file tree, and each file's metadata (HEAD) and bytes (GET, with Range). As on the hub,
weights are LFS files whose ETag is their sha256 and small files carry git's blob sha1; a file named in `corrupt`
arrives with one byte changed (its sums still those of the true file). Every request is recorded."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tests.file_server import http_server

COMMIT = "0123456789abcdef0123456789abcdef01234567"  # every repository's one revision


@dataclass
class Hub:
    repos: dict[str, Path]
    url: str = ""
    #: (method, path) of every request, in order
    log: list[tuple[str, str]] = field(default_factory=list)
    #: "repo/path" of files whose bytes arrive damaged
    corrupt: set[str] = field(default_factory=set)

    def files(self, repo: str) -> dict[str, Path]:
        root = self.repos[repo]
        return {path.relative_to(root).as_posix(): path for path in sorted(root.rglob("*")) if path.is_file()}

    def downloads(self) -> list[str]:
        """The files fetched (GET of a file's bytes), as `repo/path`."""
        return [path.split("/resolve/")[0].lstrip("/") + "/" + path.split("/", 5)[-1]
                for method, path in self.log if method == "GET" and "/resolve/" in path]  # fmt: skip


def _etag(path: Path) -> tuple[str, bool]:
    """The file's ETag on the hub and whether it is an LFS file: weights by sha256, small files by git blob sha1."""
    data = path.read_bytes()
    if path.suffix in (".safetensors", ".bin", ".msgpack", ".pt", ".pth"):
        return hashlib.sha256(data).hexdigest(), True
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest(), False


def _handler(hub: Hub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _json(self, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _missing(self) -> None:
            self.send_response(404)
            self.send_header("X-Error-Code", "RepoNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _api(self, path: str) -> None:
            # /api/models/{owner}/{name}/revision/{rev} or /api/models/{owner}/{name}/tree/{rev}[/...]
            parts = path.split("/")
            repo = "/".join(parts[3:5])
            if repo not in hub.repos or len(parts) < 7:
                return self._missing()
            files = hub.files(repo)
            if parts[5] == "revision":
                return self._json({"id": repo, "sha": COMMIT, "siblings": [{"rfilename": name} for name in files]})
            if parts[5] == "tree":
                entries = []
                for name, file in files.items():
                    size, (etag, lfs) = file.stat().st_size, _etag(file)
                    entry = {"type": "file", "path": name, "size": size, "oid": etag}
                    if lfs:
                        entry["lfs"] = {"oid": etag, "size": size, "pointerSize": 134}
                    entries.append(entry)
                return self._json(entries)
            return self._missing()

        def _file(self, path: str, body: bool) -> None:
            # /{owner}/{name}/resolve/{rev}/{path in repo}
            parts = path.lstrip("/").split("/", 4)
            repo = "/".join(parts[:2])
            if repo not in hub.repos or len(parts) < 5 or parts[2] != "resolve":
                return self._missing()
            file = hub.files(repo).get(parts[4])
            if file is None:
                self.send_response(404)
                self.send_header("X-Error-Code", "EntryNotFound")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            data = file.read_bytes()
            etag, lfs = _etag(file)
            if body and f"{repo}/{parts[4]}" in hub.corrupt:
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            start = 0
            given = self.headers.get("Range")
            if body and given and given.startswith("bytes=") and given.endswith("-"):
                start = int(given[6:-1])
            self.send_response(206 if start else 200)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", f'"{etag}"')
            if lfs:
                self.send_header("X-Linked-Etag", f'"{etag}"')
                self.send_header("X-Linked-Size", str(len(data)))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(data) - start))
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            if body:
                self.wfile.write(data[start:])
            return None

        def _serve(self, body: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            hub.log.append((self.command, path))
            if path.startswith("/api/models/"):
                return self._api(path)
            return self._file(path, body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self._serve(body=True)

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
            self._serve(body=False)

    return Handler


@contextmanager
def hub_serving(repos: dict[str, Path]) -> Iterator[Hub]:
    """Serve `repos` (repository id -> folder) as hub repositories on 127.0.0.1 while the block runs."""
    hub = Hub(repos)
    with http_server(_handler(hub)) as hub.url:
        yield hub
