"""Select: an object's mask from a box and clicks on a stored picture (GrabCut, or a segment-anything model)."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Body

from retouch.errors import InputError, RetouchError
from retouch.imaging.io import Picture, encode_mask_png
from retouch.imaging.select import Prompt
from retouch.imaging.select import SelectPoint as Point
from retouch.recipe import BBox
from retouch.server.deps import SelectorsDep, StoreDep
from retouch.server.disk import StorageFull
from retouch.server.errors import ApiError
from retouch.server.schemas import BAD_BODY, ErrorPublic, SelectCreate, SelectModelsPublic, SelectPublic
from retouch.server.store import ImageGone

router = APIRouter(prefix="/select", tags=["select"])


@router.get("/models", response_model=SelectModelsPublic)
async def select_models(selectors: SelectorsDep) -> SelectModelsPublic:
    """The selectors this server offers: `grabcut` (no weights) and the catalog's segment-anything models."""
    return SelectModelsPublic(models=selectors.names(), default="grabcut")


@router.post(
    "",
    response_model=SelectPublic,
    responses={
        **BAD_BODY,
        410: {"model": ErrorPublic},
        422: {"model": ErrorPublic},
        503: {"model": ErrorPublic},
        507: {"model": ErrorPublic},
    },
)
def select(body: Annotated[SelectCreate, Body()], store: StoreDep, selectors: SelectorsDep) -> SelectPublic:
    """The mask of the object a box and clicks point at, the picture's size, stored as a grey PNG. With a
    segment-anything model, the first call for a picture computes its embedding (seconds on a CPU) and later
    clicks on it only run the decoder."""
    # a plain function, as every route that reads SQLite (and this one computes): FastAPI runs it in its pool
    image = store.get(body.image)
    if image is None:
        raise ApiError(422, "invalid_input", f"image: no image with id {body.image!r} (upload it to /api/v1/images)")
    previous = store.get(body.previous) if body.previous is not None else None
    if body.previous is not None and previous is None:
        raise ApiError(422, "invalid_input", f"previous: no image with id {body.previous!r}")
    box = body.box.as_tuple() if body.box is not None else None
    points = tuple(Point(p.x, p.y, p.positive) for p in body.points)
    try:
        selector = selectors.get(body.model)
        store.path(image)  # a file gone from disk is 410, as for GET, even while its pixels are cached
        prompt = Prompt(box, points, store.mask(previous) if previous is not None else None)
        prompt.check(image.width, image.height)
        selection = selector.select(store.picture(image).pixels, prompt, key=image.id)
        grey = np.broadcast_to(selection.mask[..., None], (*selection.mask.shape, 3))
        stored = store.add_picture(Picture(grey, grey=True), "mask", png=encode_mask_png(selection.mask))
    except (ImageGone, StorageFull):
        raise  # 410 and 507, as everywhere
    except InputError as exc:
        raise ApiError(422, exc.code, exc.message) from None
    except RetouchError as exc:  # a model that cannot load: the server's side, named
        raise ApiError(503, exc.code, exc.message) from None
    found = selection.bbox
    return SelectPublic(
        mask=stored.id,
        bbox=BBox(x=found[0], y=found[1], width=found[2], height=found[3]) if found else None,
        area=int(np.count_nonzero(selection.mask)),
        score=selection.score,
        model=selector.name,
    )
