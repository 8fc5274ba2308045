"""Select: an object's mask from a box and clicks on a stored picture (GrabCut, or a segment-anything model)."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Body
from starlette.concurrency import run_in_threadpool

from retouch.errors import InputError, RetouchError
from retouch.imaging.io import Picture, encode_mask_png
from retouch.imaging.select import Prompt
from retouch.imaging.select import SelectPoint as Point
from retouch.recipe import BBox
from retouch.server.deps import SelectorsDep, StoreDep
from retouch.server.errors import ApiError
from retouch.server.schemas import ErrorPublic, SelectCreate, SelectModelsPublic, SelectPublic
from retouch.server.store import ImageGone, StorageFull

router = APIRouter(prefix="/select", tags=["select"])


@router.get("/models", response_model=SelectModelsPublic)
async def select_models(selectors: SelectorsDep) -> SelectModelsPublic:
    """The selectors this server offers: `grabcut` (no weights) and the catalog's segment-anything models."""
    return SelectModelsPublic(models=selectors.names(), default="grabcut")


@router.post("", response_model=SelectPublic, responses={422: {"model": ErrorPublic}})
async def select(body: Annotated[SelectCreate, Body()], store: StoreDep, selectors: SelectorsDep) -> SelectPublic:
    """The mask of the object a box and clicks point at, the picture's size. Runs off the event loop; with a
    segment-anything model, the first call for a picture computes its embedding (seconds on a CPU) and later
    clicks on it only run the decoder."""
    image = store.get(body.image)
    if image is None:
        raise ApiError(422, "invalid_input", f"image: no image with id {body.image!r} (upload it to /api/v1/images)")
    previous = store.get(body.previous) if body.previous is not None else None
    if body.previous is not None and previous is None:
        raise ApiError(422, "invalid_input", f"previous: no image with id {body.previous!r}")
    box = body.box.as_tuple() if body.box is not None else None
    points = tuple(Point(p.x, p.y, p.positive) for p in body.points)

    def run() -> SelectPublic:
        selector = selectors.get(body.model)
        picture = store.picture(image).pixels
        prompt = Prompt(box, points, store.mask(previous) if previous is not None else None)
        prompt.check(image.width, image.height)
        selection = selector.select(picture, prompt, key=image.id)
        grey = np.broadcast_to(selection.mask[..., None], (*selection.mask.shape, 3))
        stored = store.add_picture(Picture(grey, grey=True), "mask", png=encode_mask_png(selection.mask))
        found = selection.bbox
        return SelectPublic(
            mask=stored.id,
            bbox=BBox(x=found[0], y=found[1], width=found[2], height=found[3]) if found else None,
            area=int(np.count_nonzero(selection.mask)),
            score=selection.score,
            model=selector.name,
        )

    try:
        return await run_in_threadpool(run)
    except (ImageGone, StorageFull):
        raise  # 410 and 507, as everywhere
    except InputError as exc:
        raise ApiError(422, exc.code, exc.message) from None
    except RetouchError as exc:  # a model that cannot load: the server's side, named
        raise ApiError(503, exc.code, exc.message) from None
