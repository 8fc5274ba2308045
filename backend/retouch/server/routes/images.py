"""Pictures in and out. Uploads are decoded and checked, then kept as PNG (EXIF and ICC preserved)."""

from __future__ import annotations

from typing import Annotated

import cv2
import numpy as np
from fastapi import APIRouter, Path, Query, Response, UploadFile
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from retouch.imaging.io import encode_png, load_picture
from retouch.server.deps import SettingsDep, StoreDep
from retouch.server.errors import ApiError
from retouch.server.schemas import ID_PATTERN, ErrorPublic, ImagePublic

router = APIRouter(prefix="/images", tags=["images"])

ImageId = Annotated[str, Path(pattern=ID_PATTERN, description="Image id.")]
_CHUNK = 1 << 20


@router.post(
    "",
    status_code=201,
    response_model=ImagePublic,
    responses={413: {"model": ErrorPublic}, 422: {"model": ErrorPublic}},
)
async def upload_image(file: UploadFile, store: StoreDep, settings: SettingsDep) -> ImagePublic:
    """Upload a picture or a mask (PNG, JPEG, WebP, TIFF, ...). Returns its id and size."""
    data = bytearray()
    while chunk := await file.read(_CHUNK):
        data += chunk
        if len(data) > settings.max_upload_bytes:
            raise ApiError(413, "too_large", f"file: uploads are limited to {settings.max_upload_bytes} bytes")

    def decode_and_keep() -> ImagePublic:
        picture = load_picture(bytes(data), max_pixels=settings.max_pixels, what=f"file {file.filename or ''!r}")
        # a plain PNG (what the canvas sends) is kept as it came; anything else is stored as PNG
        stored = store.add_picture(picture, "upload", png=bytes(data) if picture.is_plain_png else None)
        return ImagePublic(id=stored.id, width=stored.width, height=stored.height, has_alpha=stored.has_alpha)

    return await run_in_threadpool(decode_and_keep)


@router.get(
    "/{image_id}",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}}, 404: {"model": ErrorPublic}, 422: {"model": ErrorPublic}},
)
async def get_image(
    image_id: ImageId,
    store: StoreDep,
    settings: SettingsDep,
    max_side: Annotated[
        int | None,
        Query(ge=16, le=1024, description="Answer a thumbnail: the picture scaled down to fit this side (PNG)."),
    ] = None,
) -> Response:
    """The picture as PNG; results carry their recipe in the `retouch` and `parameters` text chunks."""
    image = store.get(image_id)
    if image is None:
        raise ApiError(404, "not_found", f"no image with id {image_id!r}")
    if max_side is not None:
        picture = await run_in_threadpool(store.picture, image, settings.max_pixels)
        png = await run_in_threadpool(thumbnail_png, picture.pixels, max_side)
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})
    return FileResponse(
        store.path(image), media_type="image/png", filename=f"{image_id}.png", content_disposition_type="inline"
    )


def thumbnail_png(pixels: np.ndarray, max_side: int) -> bytes:
    """The picture shrunk (area averaging) to fit `max_side`, never enlarged, as PNG."""
    height, width = pixels.shape[:2]
    factor = min(1.0, max_side / max(height, width))
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    small = pixels if factor == 1.0 else cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    return encode_png(small)
