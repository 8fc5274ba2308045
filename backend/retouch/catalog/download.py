"""Downloading one file: resumable (HTTP Range from a `.part` beside the target), checked (free space before,
sha256/md5 after), atomic (the `.part` is renamed only once it matches), cancellable, and safe to run twice at
once (a lock file serialises two downloads of the same target; the second finds the file done).

Only the standard library speaks HTTP here: one streamed GET, read into one reused buffer, hashed as it arrives.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.client
import os
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from retouch.errors import Cancelled, InputError, RetouchError

CHUNK = 1 << 20
#: seconds without a byte before a download counts as interrupted
TIMEOUT = 60

Progress = Callable[[int, int | None], None]  # (bytes done, bytes in all or None)


class DownloadError(RetouchError):
    """The transfer failed (network, server); the `.part` stays for the next attempt to resume."""

    code = "download_failed"


class ChecksumError(InputError):
    """The downloaded bytes are not the published file; the `.part` is deleted."""

    code = "checksum_mismatch"


@dataclass(frozen=True)
class Downloaded:
    path: Path
    sha256: str
    md5: str
    size: int
    transferred: int  # bytes that crossed the network in this call
    resumed_from: int  # bytes of an earlier `.part` kept


def part_path(target: Path) -> Path:
    return target.with_name(target.name + ".part")


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (created if missing) for as long as the block runs, across processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Sums:
    """sha256 (always: the catalog records it) and md5 (when a manifest gives only that), updated as the bytes
    arrive, so a download is hashed once, while it is fetched."""

    def __init__(self, md5: bool) -> None:
        self.sha = hashlib.sha256()
        self.md5 = hashlib.md5(usedforsecurity=False) if md5 else None

    def feed(self, chunk: bytes) -> None:
        self.sha.update(chunk)
        if self.md5 is not None:
            self.md5.update(chunk)

    def feed_file(self, path: Path) -> None:
        with open(path, "rb", buffering=0) as handle:
            while chunk := handle.read(CHUNK):
                self.feed(chunk)

    def result(self) -> tuple[str, str]:
        """(sha256, md5 or "")."""
        return self.sha.hexdigest(), self.md5.hexdigest() if self.md5 is not None else ""


def file_sums(path: Path, *, md5: bool = True) -> tuple[str, str]:
    """(sha256, md5 or "") of a file."""
    sums = Sums(md5)
    sums.feed_file(path)
    return sums.result()


def check_free_space(folder: Path, needed: int, what: str) -> None:
    """Refuse before starting when the disk cannot hold what is left to download (with the numbers)."""
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise InputError(
            f"not enough disk space for {what}: it needs {needed:,} bytes ({needed / 1e9:.2f} GB) in {folder}, "
            f"which has {free:,} bytes ({free / 1e9:.2f} GB) free"
        )


def mismatch(what: str, kind: str, expected: str, actual: str) -> ChecksumError:
    return ChecksumError(
        f"{what}: {kind} mismatch: the manifest says {expected}, the download is {actual}; "
        "the partial file was deleted and nothing was registered"
    )


def download(
    url: str,
    target: Path,
    *,
    what: str,
    size: int | None = None,
    sha256: str | None = None,
    md5: str | None = None,
    on_progress: Progress | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> Downloaded:
    """Fetch `url` to `target`, resuming an earlier `.part`, and verify it; returns what was done."""
    with locked(target.with_name(f".{target.name}.lock")):
        if target.is_file():  # done before (or by another install that held the lock first)
            found_sha, found_md5 = file_sums(target, md5=bool(md5) and not sha256)
            _verify(what, found_sha, found_md5, sha256, md5, target, delete=False)
            return Downloaded(target, found_sha, found_md5, target.stat().st_size, 0, 0)
        part = part_path(target)
        kept = part.stat().st_size if part.is_file() else 0
        if size is not None and kept > size:  # not a prefix of this file: start again
            part.unlink()
            kept = 0
        check_free_space(target.parent, (size - kept) if size is not None else 0, what)
        sums = Sums(md5=bool(md5) and not sha256)  # sha256 suffices when both are published
        try:
            transferred, kept = _fetch(url, part, kept, what, sums, on_progress, is_cancelled)
        finally:
            found_sha, found_md5 = sums.result()
        found_size = part.stat().st_size
        if size is not None and found_size != size and not (sha256 or md5):
            part.unlink()
            raise ChecksumError(f"{what}: the manifest says {size:,} bytes, the download has {found_size:,}")
        _verify(what, found_sha, found_md5, sha256, md5, part, delete=True)
        os.replace(part, target)
        return Downloaded(target, found_sha, found_md5, found_size, transferred, kept)


def _verify(
    what: str, found_sha: str, found_md5: str, sha256: str | None, md5: str | None, path: Path, *, delete: bool
) -> None:
    for kind, expected, actual in (("sha256", sha256, found_sha), ("md5", md5, found_md5)):
        if expected and actual and expected.lower() != actual:
            if delete:
                path.unlink(missing_ok=True)
            else:
                raise ChecksumError(
                    f"{what}: {path} exists but its {kind} is {actual}, not the manifest's {expected}; "
                    "delete it to download it again"
                )
            raise mismatch(what, kind, expected, actual)


def _fetch(
    url: str,
    part: Path,
    kept: int,
    what: str,
    sums: Sums,
    on_progress: Progress | None,
    is_cancelled: Callable[[], bool] | None,
) -> tuple[int, int]:
    """Stream `url` into `part` from byte `kept` on; returns (bytes transferred, bytes of the `.part` kept)."""
    request = urllib.request.Request(url, headers={"User-Agent": "retouch", "Accept-Encoding": "identity"})
    if kept:
        request.add_header("Range", f"bytes={kept}-")
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT)  # noqa: S310 - http(s) only (manifest check)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and kept:  # the .part already holds the whole file
            sums.feed_file(part)
            return 0, kept
        raise DownloadError(f"{what}: {url} answered HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(f"{what}: cannot reach {url} ({reason})") from None
    with response:
        if kept and response.status != 206:  # the server ignored the range: start again
            kept = 0
        if kept:
            sums.feed_file(part)
        length = response.headers.get("Content-Length")
        total = kept + int(length) if length is not None else None
        done = kept
        transferred = 0
        last = 0.0
        with open(part, "ab" if kept else "wb", buffering=0) as out:
            while True:
                if is_cancelled is not None and is_cancelled():
                    raise Cancelled(f"the download of {what} was cancelled; {done:,} bytes kept to resume")
                try:
                    chunk = response.read1(CHUNK)  # what has arrived: progress and cancel go on while bytes trickle in
                except (http.client.HTTPException, OSError) as exc:
                    raise DownloadError(_interrupted(what, done, exc)) from None
                if not chunk:
                    break
                out.write(chunk)
                sums.feed(chunk)
                done += len(chunk)
                transferred += len(chunk)
                now = time.monotonic()
                if on_progress is not None and now - last >= 0.1:
                    on_progress(done, total)
                    last = now
            out.flush()
            os.fsync(out.fileno())
        if total is not None and done < total:
            raise DownloadError(_interrupted(what, done, None))
        if on_progress is not None:
            on_progress(done, total)
        return transferred, kept


def _interrupted(what: str, done: int, exc: BaseException | None) -> str:
    cause = f" ({type(exc).__name__})" if exc is not None else ""
    return (
        f"the download of {what} was interrupted after {done:,} bytes{cause}; run the same install again to "
        "resume from the .part file"
    )
