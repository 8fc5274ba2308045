"""What the server keeps on disk: never started silently on a damaged database, rebuilt from the files on
request, pictures deleted by request or by the retention policy, and a missing file said without a path."""

from __future__ import annotations

import hashlib
import io
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from tests.server.conftest import ROOT, live_server
from tests.support import run_cli


def _serve_refused(data: Path) -> str:
    """Start `retouch serve` on `data`; it must refuse at once with exit code 2 and one line. The line."""
    result = run_cli("serve", "--port", "0", "--data-dir", data, cwd=ROOT)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def used_data_dir(tmp_path_factory) -> tuple[Path, str, str, np.ndarray]:
    """A data folder after a session: an upload, a mask and one finished job; (folder, image, result, pixels)."""
    data = tmp_path_factory.mktemp("used") / "data"
    pixels = np.random.default_rng(3).integers(0, 255, (40, 56, 3), dtype=np.uint8)
    mask = np.zeros((40, 56), np.uint8)
    mask[10:20, 10:30] = 255
    with live_server(data) as server:
        image = server.upload(pixels)["id"]
        job = server.submit(image=image, mask=server.upload(mask)["id"], engine="invert").json()["id"]
        result = server.wait(job)["result"]["image"]
    return data, image, result, pixels


def _copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(source, target)
    return target


def test_an_emptied_database_is_refused_then_rebuilt_from_the_files(used_data_dir, tmp_path):
    source, image, result, pixels = used_data_dir
    data = _copy(source, tmp_path)
    (data / "retouch.db").write_bytes(b"")
    (data / "retouch.db-wal").unlink(missing_ok=True)
    line = _serve_refused(data)
    assert str(data / "retouch.db") in line and "empty" in line and "retouch rebuild-index" in line
    assert (data / "retouch.db").stat().st_size == 0  # not replaced behind the user's back

    rebuilt = run_cli("rebuild-index", "--data-dir", data, cwd=ROOT)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "3 picture(s)" in rebuilt.stdout and "copied to" in rebuilt.stdout
    assert len(list(data.glob("retouch.db.damaged-*"))) == 1  # the copy kept before the repair
    with live_server(data) as server:
        assert np.array_equal(server.image(image), pixels)
        assert server.http.get(f"/api/v1/images/{result}").status_code == 200


@pytest.mark.parametrize("damage", ["garbage in the middle", "garbage header", "a folder in its place"])
def test_a_damaged_database_is_refused_with_one_line(used_data_dir, tmp_path, damage):
    source, *_ = used_data_dir
    data = _copy(source, tmp_path)
    db = data / "retouch.db"
    if damage == "garbage in the middle":
        raw = bytearray(db.read_bytes())
        assert len(raw) >= 3 * 4096
        raw[4096 : 3 * 4096] = np.random.default_rng(0).integers(0, 255, 2 * 4096, dtype=np.uint8).tobytes()
        db.write_bytes(bytes(raw))
    elif damage == "garbage header":
        db.write_bytes(b"this is not SQLite" * 10 + db.read_bytes()[180:])
    else:
        db.unlink()
        db.mkdir()
    before = _digest(db) if db.is_file() else None
    line = _serve_refused(data)
    assert str(db) in line and ("damaged" in line or "not a database file" in line)
    assert "Traceback" not in line
    if before is not None:
        assert _digest(db) == before


def test_delete_image_then_410_and_images_in_use_are_kept(server, uploaded, tmp_path):
    image, mask = uploaded
    blocker = server.submit(image=image, mask=mask, engine="slow", steps=200).json()["id"]
    refused = server.http.delete(f"/api/v1/images/{image}")
    assert refused.status_code == 409 and "queued or running job" in refused.json()["message"]
    assert server.http.delete(f"/api/v1/jobs/{blocker}").status_code in (200, 202)
    assert server.wait(blocker)["status"] == "canceled"

    assert server.http.delete(f"/api/v1/images/{image}").status_code == 204
    gone = server.http.get(f"/api/v1/images/{image}")
    assert gone.status_code == 410 and "deleted" in gone.json()["message"]
    assert server.http.delete(f"/api/v1/images/{image}").status_code == 410
    again = server.submit(image=image, mask=mask, engine="invert")
    assert again.status_code == 422 and image in again.json()["message"]
    assert server.http.delete(f"/api/v1/images/{'x' * 22}").status_code == 404


def test_a_missing_file_is_410_naming_no_server_path(tmp_path, picture, hole):
    with live_server(tmp_path / "data", picture_cache=0) as server:  # no decoded copy in memory to fall back on
        _missing_file(server, server.upload(picture)["id"], server.upload(hole)["id"], tmp_path)


def _missing_file(server, image: str, mask: str, tmp_path: Path) -> None:
    path = next((tmp_path / "data" / "images").glob(f"*/{image}.png"))
    path.unlink()
    answer = server.http.get(f"/api/v1/images/{image}")
    assert answer.status_code == 410
    assert "missing" in answer.json()["message"] and str(tmp_path) not in answer.json()["message"]
    refused = server.submit(image=image, mask=mask, engine="invert")  # checked at submission: said at once
    assert refused.status_code == 410 and "missing" in refused.json()["message"]
    assert str(tmp_path) not in refused.json()["message"]
    assert server.http.get("/api/v1/health").status_code == 200


def test_retention_keeps_pictures_under_the_byte_limit_oldest_first_but_never_those_of_live_jobs(tmp_path):
    noise = np.random.default_rng(1)
    pictures = [noise.integers(0, 255, (48, 48, 3), dtype=np.uint8) for _ in range(6)]
    with live_server(tmp_path / "data", retention_bytes=3 * 7_500) as server:
        ids = [server.upload(pictures[0])["id"]]
        mask = np.zeros((48, 48), np.uint8)
        mask[10:20, 10:20] = 255
        mask_id = server.upload(mask)["id"]
        blocker = server.submit(image=ids[0], mask=mask_id, engine="slow", steps=200)
        assert blocker.status_code == 202, blocker.text
        blocker = blocker.json()["id"]
        ids += [server.upload(picture)["id"] for picture in pictures[1:]]
        status = {image: server.http.get(f"/api/v1/images/{image}").status_code for image in ids}
        assert status[ids[0]] == 200  # the oldest, but its job still needs it
        assert status[ids[-1]] == 200 and status[ids[-2]] == 200
        assert 410 in status.values()
        health = server.http.get("/api/v1/health").json()
        assert health["storage"]["picture_bytes"] <= 3 * 7_500
        server.http.delete(f"/api/v1/jobs/{blocker}")
        server.wait(blocker)


def test_retention_deletes_finished_jobs_and_pictures_older_than_the_limit(tmp_path):
    data = tmp_path / "data"
    with live_server(data) as server:
        picture = np.full((32, 32, 3), 40, np.uint8)
        mask = np.zeros((32, 32), np.uint8)
        mask[8:16, 8:16] = 255
        old_image, old_mask = server.upload(picture)["id"], server.upload(mask)["id"]
        old_job = server.submit(image=old_image, mask=old_mask, engine="invert").json()["id"]
        old_result = server.wait(old_job)["result"]["image"]
        recent = server.upload(picture)["id"]
    long_ago = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    with sqlite3.connect(data / "retouch.db") as db:
        db.execute("UPDATE images SET created_at = ? WHERE id != ?", (long_ago, recent))
        db.execute("UPDATE jobs SET created_at = ?, finished_at = ?", (long_ago, long_ago))
    with live_server(data, retention_days=30) as server:
        assert server.http.get(f"/api/v1/jobs/{old_job}").status_code == 404
        for image in (old_image, old_mask, old_result):
            assert server.http.get(f"/api/v1/images/{image}").status_code == 410
        assert server.http.get(f"/api/v1/images/{recent}").status_code == 200
        assert server.http.get("/api/v1/health").json()["storage"]["pictures"] == 1
    assert len(list((data / "images").glob("*/*.png"))) == 1


def test_a_grey_mask_is_cached_as_one_channel_so_its_picture_stays_decoded():
    """At 4096² a canvas mask read as RGB (48 MB) pushed its picture (64 MB) out of the default 96 MB cache,
    and every job then decoded the picture again before it was queued."""
    from PIL import Image

    from retouch.imaging.io import encode_png, load_picture, mask_of
    from retouch.server.pictures import PictureCache

    rng = np.random.default_rng(3)
    picture = load_picture(encode_png(rng.integers(0, 256, (64, 64, 4), dtype=np.uint8)))
    grey = np.where(rng.random((64, 64)) > 0.5, 255, 0).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(grey, "L").save(buffer, format="PNG")
    mask = load_picture(buffer.getvalue())
    assert mask.grey and mask.pixels.shape == (64, 64, 3)

    cache = PictureCache(picture.pixels.nbytes + grey.nbytes)  # room for the picture and one channel
    cache.put("picture", picture)
    cache.put("mask", mask)
    assert cache.get("picture") is picture
    cached = cache.get("mask")
    assert cached is not None
    assert np.array_equal(cached.pixels, np.repeat(grey[..., None], 3, axis=2))
    assert np.array_equal(mask_of(cached), grey)
    cache.put("mask", mask)  # the same id again is counted once
    assert cache.get("picture") is picture


def test_masks_uploaded_while_painting_go_out_of_the_cache_before_their_picture():
    """The canvas uploads a new mask crop whenever the user pauses painting: at 4096² a few of them pushed the
    picture out of the default cache, and creating the job then decoded the photograph again (0.8 s)."""
    from PIL import Image

    from retouch.imaging.io import encode_png, load_picture
    from retouch.server.pictures import PictureCache

    rng = np.random.default_rng(4)
    picture = load_picture(encode_png(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)))
    other = load_picture(encode_png(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)))

    def mask(seed: int):
        buffer = io.BytesIO()
        grey = np.where(np.random.default_rng(seed).random((64, 64)) > 0.5, 255, 0).astype(np.uint8)
        Image.fromarray(grey, "L").save(buffer, format="PNG")
        return load_picture(buffer.getvalue())

    cache = PictureCache(picture.pixels.nbytes + 2 * 64 * 64)  # the picture and two masks' channels
    cache.put("picture", picture)
    for n in range(6):
        cache.put(f"mask {n}", mask(n))
    assert cache.get("picture") is picture
    assert [cache.get(f"mask {n}") is not None for n in range(6)] == [False] * 4 + [True] * 2

    cache.put("other", other)  # colour pictures still go least recently used first, once no mask is left
    assert cache.get("other") is other
    assert cache.get("picture") is None
    assert all(cache.get(f"mask {n}") is None for n in range(6))
