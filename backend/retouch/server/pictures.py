"""Memory for pictures: decodes in flight reserve their size from a `DecodeBudget`; decoded pictures are kept
in a `PictureCache` bounded in bytes."""

from __future__ import annotations

import io
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import numpy as np
from PIL import Image

from retouch.imaging.io import Picture


class DecodeBudget:
    """Bytes that decodes in flight may hold; a decode waits until its estimate fits. One decode alone always
    runs, however large (the pixel limit bounds it), so waiting can never last forever."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self._held = 0
        self._decoding = 0
        self._free = threading.Condition()

    @staticmethod
    def estimate(width: int, height: int) -> int:
        # Pillow holds 4 bytes a pixel, the array another 3-4, a conversion or rotation one more copy
        return width * height * 12

    @contextmanager
    def reserve(self, amount: int) -> Iterator[None]:
        with self._free:
            self._free.wait_for(lambda: self._decoding == 0 or self._held + amount <= self.budget)
            self._held += amount
            self._decoding += 1
        try:
            yield
        finally:
            with self._free:
                self._held -= amount
                self._decoding -= 1
                self._free.notify_all()


class PictureCache:
    """Decoded pictures by image id, least recently used out first, bounded in bytes.

    A picture is decoded once at upload and handed to the worker from here; its pixels are read-only.
    A grey picture (the canvas's masks) is kept as its one channel, a third of its RGB size, and goes out
    before any colour picture: the canvas uploads a new mask crop every time the user pauses painting, and
    re-decoding a mask (mostly one value) takes milliseconds where a 4096² photograph takes most of a second,
    so a run of masks must not push the picture they belong to out.
    """

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self._pictures: OrderedDict[str, Picture] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def _compact(picture: Picture) -> Picture:
        if not picture.grey:
            return picture
        channel = np.ascontiguousarray(picture.pixels[..., 0])
        # the three equal channels as a read-only view of one
        return replace(picture, pixels=np.broadcast_to(channel[..., None], picture.pixels.shape))

    @staticmethod
    def _bytes_of(picture: Picture) -> int:
        pixels = picture.pixels
        return pixels[..., 0].nbytes if pixels.strides[-1] == 0 else pixels.nbytes

    def put(self, image_id: str, picture: Picture) -> None:
        picture.pixels.flags.writeable = False
        picture = self._compact(picture)
        size = self._bytes_of(picture)
        if size > self.budget:
            return
        with self._lock:
            self._drop_locked(image_id)
            self._pictures[image_id] = picture
            self._bytes += size
            while self._bytes > self.budget and self._pictures:
                self._drop_locked(self._next_out_locked())

    def get(self, image_id: str) -> Picture | None:
        """The cached picture; a grey one's pixels are a read-only view (copy before handing them to OpenCV)."""
        with self._lock:
            picture = self._pictures.get(image_id)
            if picture is not None:
                self._pictures.move_to_end(image_id)
            return picture

    def drop(self, image_id: str) -> None:
        with self._lock:
            self._drop_locked(image_id)

    def _next_out_locked(self) -> str:
        """The least recently used grey picture, else the least recently used picture."""
        for image_id, picture in self._pictures.items():
            if picture.grey:
                return image_id
        return next(iter(self._pictures))

    def _drop_locked(self, image_id: str) -> None:
        picture = self._pictures.pop(image_id, None)
        if picture is not None:
            self._bytes -= self._bytes_of(picture)


def peek_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the header alone; (0, 0) if unreadable (the decode then says why)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(io.BytesIO(data)) as image:
                return image.size
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):  # what Pillow raises on garbage
            return 0, 0
