"""Pictures in and out. Uploads stream to the data folder, are decoded and checked, then kept as PNG (EXIF and
ICC preserved); a plain 8-bit PNG (RGB, RGBA or grey: what the canvas sends) is kept as it came, without a
second write."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Annotated, BinaryIO

import cv2
import numpy as np
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from retouch.imaging.io import encode_png
from retouch.server.deps import SettingsDep, StoreDep
from retouch.server.disk import is_disk_full
from retouch.server.errors import ApiError
from retouch.server.schemas import ID_PATTERN, ErrorPublic, ImagePublic
from retouch.server.store import ImageStore

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks  # a TypedDict for type checkers only

router = APIRouter(prefix="/images", tags=["images"])

ImageId = Annotated[str, Path(pattern=ID_PATTERN, description="Image id.")]
FIELD = "file"
#: the request body as OpenAPI (and the generated client) know it: one multipart field `file`
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "title": "Body_upload_image_api_v1_images_post",
                    "type": "object",
                    "required": [FIELD],
                    "properties": {FIELD: {"title": "File", "type": "string", "format": "binary"}},
                }
            }
        },
    }
}


class PictureFile(FileResponse):
    """A stored PNG sent in 1 MiB reads: Starlette's 64 KiB make a thread hop each, eight for a 512² result."""

    chunk_size = 1 << 20


def _invalid(message: str) -> ApiError:
    return ApiError(422, "invalid_input", message)


class _Upload:
    """The multipart body's `file` part, written to a file as it streams in; other parts are refused."""

    def __init__(self, target: FilePath, limit: int) -> None:
        self.target, self.limit = target, limit
        self.size = 0
        self.filename = ""
        self.found = False
        self.error: ApiError | None = None
        self._handle: BinaryIO | None = None
        self._field = b""
        self._headers: dict[bytes, bytes] = {}
        self._header = b""
        self._value = b""

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda data, start, end: setattr(self, "_header", self._header + data[start:end]),
            "on_header_value": lambda data, start, end: setattr(self, "_value", self._value + data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": self._end,
        }

    def _begin(self) -> None:
        self._headers, self._header, self._value = {}, b"", b""

    def _header_end(self) -> None:
        self._headers[self._header.lower()] = self._value
        self._header, self._value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("latin-1")
        if name != FIELD:
            self.error = _invalid(f"{name or 'a part without a name'}: unexpected; send the picture as `{FIELD}`")
        elif self.found:
            self.error = _invalid(f"{FIELD}: send one picture per upload")
        else:
            self.found = True
            self.filename = options.get(b"filename", b"").decode("utf-8", "replace")
            self._handle = open(self.target, "wb")  # noqa: SIM115 (closed in `_end` or `close`)

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._handle is None or self.error is not None:
            return
        self.size += end - start
        if self.size > self.limit:
            self.error = ApiError(413, "too_large", f"{FIELD}: uploads are limited to {self.limit} bytes")
            return
        self._handle.write(data[start:end])

    def _end(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def close(self) -> None:
        self._end()


async def _receive(request: Request, store: ImageStore, limit: int) -> tuple[FilePath, str]:
    """Stream the upload's `file` part into the store's incoming folder; (its file, its name as sent)."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or not options.get(b"boundary"):
        raise ApiError(415, "unsupported_media_type", f"send the picture as multipart/form-data with a `{FIELD}` field")
    target = store.new_incoming()
    upload = _Upload(target, limit)
    parser = MultipartParser(options[b"boundary"], upload.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if upload.error is not None:
                raise upload.error
        parser.finalize()
        if not upload.found:
            raise _invalid(f"{FIELD}: missing; send the picture as the multipart field `{FIELD}`")
    except FormParserError as exc:
        target.unlink(missing_ok=True)
        raise ApiError(400, "bad_request", f"the multipart body is malformed ({exc})") from None
    except OSError as exc:
        target.unlink(missing_ok=True)
        if is_disk_full(exc):
            raise store.full() from None
        raise
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        upload.close()
    return target, upload.filename


@router.post(
    "",
    status_code=201,
    response_model=ImagePublic,
    responses={
        400: {"model": ErrorPublic, "description": "The multipart body is malformed."},
        413: {"model": ErrorPublic},
        415: {"model": ErrorPublic, "description": "The body is not multipart/form-data."},
        422: {"model": ErrorPublic},
        507: {"model": ErrorPublic},
    },
    openapi_extra=UPLOAD_BODY,
)
async def upload_image(request: Request, store: StoreDep, settings: SettingsDep) -> ImagePublic:
    """Upload a picture or a mask (PNG, JPEG, WebP, TIFF, ...). Returns its id and size."""
    part, filename = await _receive(request, store, settings.max_upload_bytes)

    def decode_and_keep() -> ImagePublic:
        try:
            with store.decoding(part.read_bytes(), what=f"file {filename!r}") as picture:
                # a plain PNG (what the canvas sends) is moved in as it came; anything else is stored as PNG
                stored = store.add_picture(picture, "upload", png=part if picture.is_plain_png else None)
                del picture
        finally:
            part.unlink(missing_ok=True)
        return ImagePublic(id=stored.id, width=stored.width, height=stored.height, has_alpha=stored.has_alpha)

    return await run_in_threadpool(decode_and_keep)


def _image_or_error(store: ImageStore, image_id: str):
    image = store.get(image_id, deleted=True)
    if image is None:
        raise ApiError(404, "not_found", f"no image with id {image_id!r}")
    return image


@router.get(
    "/{image_id}",
    response_class=PictureFile,
    responses={
        200: {"content": {"image/png": {}}},
        404: {"model": ErrorPublic},
        410: {"model": ErrorPublic},
        422: {"model": ErrorPublic},
    },
)
def get_image(
    image_id: ImageId,
    store: StoreDep,
    max_side: Annotated[
        int | None,
        Query(ge=16, le=1024, description="Answer a thumbnail: the picture scaled down to fit this side (PNG)."),
    ] = None,
) -> Response:
    """The picture as PNG; results carry their recipe in the `retouch` and `parameters` text chunks.
    410 if it was deleted (by request or by the retention policy) or its file is gone."""
    image = _image_or_error(store, image_id)
    if max_side is not None:
        png = thumbnail_png(store.picture(image).pixels, max_side)
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})
    return PictureFile(
        store.path(image), media_type="image/png", filename=f"{image_id}.png", content_disposition_type="inline"
    )


def thumbnail_png(pixels: np.ndarray, max_side: int) -> bytes:
    """The picture shrunk (area averaging) to fit `max_side`, never enlarged, as PNG."""
    height, width = pixels.shape[:2]
    factor = min(1.0, max_side / max(height, width))
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    small = pixels if factor == 1.0 else cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    return encode_png(small)


@router.delete(
    "/{image_id}",
    status_code=204,
    responses={404: {"model": ErrorPublic}, 409: {"model": ErrorPublic}, 410: {"model": ErrorPublic}},
)
def delete_image(image_id: ImageId, store: StoreDep) -> Response:
    """Delete a picture (an upload or a result). 409 while a queued or running job needs it; asking for it
    afterwards answers 410."""
    image = _image_or_error(store, image_id)
    if image.deleted_at:
        raise ApiError(410, "gone", f"image {image_id!r} was already deleted")
    if not store.delete(image_id):
        raise ApiError(409, "conflict", f"image {image_id!r} is used by a queued or running job; cancel it first")
    return Response(status_code=204)
