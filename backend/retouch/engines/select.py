"""Selectors: turn a prompt (box, clicks, previous mask) into an object's mask at the picture's full resolution.

`grabcut` is built in and needs no weights. A segment-anything model (catalog family `sam`: a transformers
folder with `config.json`, its safetensors weights and `preprocessor_config.json`, e.g. SAM ViT-B/L/H or
SlimSAM) splits the work as SAM does: the image encoder runs once per picture and the embedding is kept in a
small cache (`embeddings` pictures, least recently used out); each click runs only the prompt encoder and mask
decoder. The decoder's low-resolution logits are cropped to the picture's part of SAM's padded square and
brought to the picture's full size by `imaging.select.refine_to` (bilinear, then the guided filter that puts
the edge on the picture's edges), never a 1024x1024 mask stretched.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from retouch.errors import EngineError, InputError
from retouch.imaging.select import Prompt, Selection, grabcut_select, refine_to

GRABCUT = "grabcut"


class Selector:
    """One way of selecting objects; `select` is safe to call from several threads."""

    name: str = ""
    needs_weights = False
    device = "cpu"  # where a model with weights loads; set before its first `select`

    def select(self, picture: np.ndarray, prompt: Prompt, *, key: str | None = None) -> Selection:
        """The object `prompt` points at in `picture` (uint8 HxWx3/4). `key` names the picture for caches (a
        stored image id); without one the pixels are hashed."""
        raise NotImplementedError

    def size_bytes(self) -> int:
        return 0


class GrabCutSelector(Selector):
    name = GRABCUT

    def select(self, picture: np.ndarray, prompt: Prompt, *, key: str | None = None) -> Selection:
        return grabcut_select(picture, prompt)


SelectorFactory = Callable[[], Selector]
#: the selectors every install has; the catalog adds one per `sam` model (`retouch.registry.build_registry`)
SELECTORS: dict[str, SelectorFactory] = {GRABCUT: GrabCutSelector}


def picture_key(picture: np.ndarray) -> str:
    """A name for a picture's pixels, for the embedding cache when the caller has none."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(str(picture.shape).encode())
    digest.update(np.ascontiguousarray(picture).data)
    return digest.hexdigest()


class SamSelector(Selector):
    """A segment-anything model from a transformers folder (or a hub id), loaded on first use on `device`."""

    needs_weights = True

    def __init__(self, name: str, source: str | Path, device: str = "cpu", embeddings: int = 4) -> None:
        self.name = name
        self.source = str(source)
        self.device = device
        self.capacity = embeddings
        self.embeddings_computed = 0  # how many times the image encoder ran (the costly step)
        self._cache: OrderedDict[str, tuple[Any, tuple[int, int]]] = OrderedDict()
        self._lock = threading.Lock()
        self._model: Any = None
        self._processor: Any = None

    def load(self) -> None:
        if self._model is not None:
            return
        local = Path(self.source)
        if local.is_absolute() and not (local / "config.json").is_file():
            raise EngineError(f"segmentation model {self.name!r}: {local} has no config.json")
        from transformers import SamModel, SamProcessor

        try:  # a folder never reaches the network; a hub id comes from the cache, or is downloaded when online
            self._processor = SamProcessor.from_pretrained(self.source)
            model = SamModel.from_pretrained(self.source, use_safetensors=True)
        except (OSError, ValueError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise EngineError(f"segmentation model {self.name!r} cannot load from {self.source}: {first}") from None
        self._model = model.to(self.device).eval()

    def size_bytes(self) -> int:
        if self._model is None:
            return 0
        return sum(p.numel() * p.element_size() for p in self._model.parameters())

    def _embedding(self, picture: np.ndarray, key: str) -> tuple[Any, tuple[int, int]]:
        """The image encoder's output for `picture` and the size SAM resized it to, from the cache or computed."""
        import torch

        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            inputs = self._processor(images=np.array(picture[..., :3]), return_tensors="pt")
            with torch.inference_mode():
                embedding = self._model.get_image_embeddings(inputs["pixel_values"].to(self.device))
            resized = tuple(int(v) for v in inputs["reshaped_input_sizes"][0])
            self.embeddings_computed += 1
            self._cache[key] = (embedding, (resized[0], resized[1]))
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
            return self._cache[key]

    def _mask_input(self, previous: np.ndarray, resized: tuple[int, int], side: int) -> Any:
        """A previous selection as the decoder's mask prompt: logits (+-10) over SAM's padded square, at the
        decoder's low resolution (4 x the embedding's side)."""
        import cv2
        import torch

        frame = np.zeros((side, side), np.float32)
        frame[: resized[0], : resized[1]] = cv2.resize(previous, resized[::-1], interpolation=cv2.INTER_AREA) / 255
        low = 4 * self._model.config.prompt_encoder_config.image_embedding_size
        logits = (cv2.resize(frame, (low, low), interpolation=cv2.INTER_AREA) * 2 - 1) * 10
        return torch.from_numpy(logits)[None, None].to(self.device)

    def select(self, picture: np.ndarray, prompt: Prompt, *, key: str | None = None) -> Selection:
        import torch

        height, width = picture.shape[:2]
        prompt.check(width, height)
        self.load()
        embedding, (resized_h, resized_w) = self._embedding(picture, key or picture_key(picture))
        k = resized_w / width  # the picture's pixels to SAM's input pixels
        arguments: dict[str, Any] = {"image_embeddings": embedding, "multimask_output": not prompt.points}
        if prompt.points:
            points = [[[p.x * k, p.y * k] for p in prompt.points]]
            arguments["input_points"] = torch.tensor([points], dtype=torch.float32, device=self.device)
            labels = [[1 if p.positive else 0 for p in prompt.points]]
            arguments["input_labels"] = torch.tensor([labels], dtype=torch.long, device=self.device)
        if prompt.box is not None:
            x, y, w, h = prompt.box
            arguments["input_boxes"] = torch.tensor([[[x * k, y * k, (x + w) * k, (y + h) * k]]], device=self.device)
        if prompt.box is None and not prompt.points:
            raise InputError("points: a segmentation model needs a box or a point besides the previous mask")
        side = self._processor.image_processor.pad_size["height"]
        if prompt.previous is not None:
            arguments["input_masks"] = self._mask_input(prompt.previous, (resized_h, resized_w), side)
        with torch.inference_mode():
            output = self._model(**arguments)
        logits = output.pred_masks[0, 0].float().cpu().numpy()  # (masks, h, w) over SAM's padded square
        scores = output.iou_scores[0, 0].float().cpu().numpy()
        best = int(np.argmax(scores))
        low = logits.shape[-1] / side  # the low-resolution logits' pixels per input pixel
        cropped = logits[best, : max(1, round(resized_h * low)), : max(1, round(resized_w * low))]
        probability = 1.0 / (1.0 + np.exp(-np.clip(cropped, -30, 30)))
        mask = refine_to(picture, probability.astype(np.float32), cropped.shape[1] / width)
        if prompt.previous is not None and prompt.points and not any(p.positive for p in prompt.points):
            mask = np.where(prompt.previous >= 128, mask, 0).astype(np.uint8)  # taking away never adds
        return Selection(mask, float(scores[best]))


def get_selector(name: str | None, selectors: dict[str, SelectorFactory] | None = None) -> Selector:
    """A selector by name (None = `grabcut`), or an error listing the names there are."""
    table = SELECTORS if selectors is None else selectors
    try:
        return table[name or GRABCUT]()
    except KeyError:
        raise InputError(f"model: {name!r} is not a selection model; available: {', '.join(sorted(table))}") from None
