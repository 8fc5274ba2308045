"""Faces: find the faces of a stored picture (the boxes a user then corrects and sends as a `faces` job)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from retouch.detect.faces import detect_faces, get_detector
from retouch.errors import RetouchError
from retouch.server.deps import EnginesDep, StoreDep
from retouch.server.disk import StorageFull
from retouch.server.errors import ApiError
from retouch.server.schemas import BAD_BODY, ErrorPublic, FacePublic, FacesFind, FacesPublic
from retouch.server.store import ImageGone

router = APIRouter(prefix="/faces", tags=["faces"])


@router.post(
    "",
    response_model=FacesPublic,
    responses={**BAD_BODY, 410: {"model": ErrorPublic}, 422: {"model": ErrorPublic}, 507: {"model": ErrorPublic}},
)
def find_faces(body: Annotated[FacesFind, Body()], store: StoreDep, engines: EnginesDep) -> FacesPublic:
    """The faces in a picture as boxes with scores. Quick (the search copy is at most `search_pixels`, about a
    quarter of a second for 1024x1024 on two cores) and run off the event loop; a picture without faces
    answers an empty list."""
    # a plain function, as every route that reads SQLite: FastAPI runs it in its thread pool
    image = store.get(body.image)
    if image is None:
        raise ApiError(422, "invalid_input", f"image: no image with id {body.image!r} (upload it to /api/v1/images)")
    try:
        detector = get_detector(body.detector, engines.detectors)  # the registry's, which faces jobs use too
        store.path(image)  # a file gone from disk is 410, as for GET, even while its pixels are cached
        found = detect_faces(store.picture(image).pixels, body, detector)
    except (ImageGone, StorageFull):
        raise  # 410 and 507, as everywhere
    except RetouchError as exc:  # a bad detector name or field, or a registered detector file that cannot load
        raise ApiError(422, exc.code, exc.message) from None
    faces = [FacePublic(**face.as_dict()) for face in found.faces]
    return FacesPublic(faces=faces, smallest_face=found.smallest_face, detector=detector.name)
