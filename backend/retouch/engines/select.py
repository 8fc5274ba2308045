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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Frame:
    """Where a picture lies in a model's input: `scale` (x, y) from picture to input pixels, `used` (height,
    width) the part of the input square it fills (SAM pads the rest; SAM 2 stretches it over all), `side`
    (height, width) the whole input."""

    scale: tuple[float, float]
    used: tuple[int, int]
    side: tuple[int, int]


#: the transformers classes of each `model_type` a `sam` catalog entry may hold
_CLASSES = {"sam": ("SamModel", "SamProcessor"), "sam2": ("Sam2Model", "Sam2Processor")}


class SamSelector(Selector):
    """A segment-anything model (SAM, SlimSAM or SAM 2 in transformers' format) from a folder or a hub id,
    loaded on first use on `device`."""

    needs_weights = True

    def __init__(self, name: str, source: str | Path, device: str = "cpu", embeddings: int = 4) -> None:
        self.name = name
        self.source = str(source)
        self.device = device
        self.capacity = embeddings
        self.embeddings_computed = 0  # how many times the image encoder ran (the costly step)
        self._cache: OrderedDict[str, tuple[Any, _Frame]] = OrderedDict()
        self._lock = threading.Lock()
        self._model: Any = None
        self._processor: Any = None

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            local = Path(self.source)
            if local.is_absolute() and not (local / "config.json").is_file():
                raise EngineError(f"segmentation model {self.name!r}: {local} has no config.json")
            import transformers

            try:  # a folder never reaches the network; a hub id comes from the cache, or is downloaded when online
                kind = transformers.AutoConfig.from_pretrained(self.source).model_type
                if kind not in _CLASSES:
                    raise ValueError(f"a {kind!r} model, not one of {', '.join(_CLASSES)}")
                model_class, processor_class = (getattr(transformers, n) for n in _CLASSES[kind])
                self._processor = processor_class.from_pretrained(self.source)
                model = model_class.from_pretrained(self.source, use_safetensors=True)
            except (OSError, ValueError) as exc:
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise EngineError(f"segmentation model {self.name!r} cannot load from {self.source}: {first}") from None
            self._model = model.to(self.device).eval()

    def size_bytes(self) -> int:
        if self._model is None:
            return 0
        return sum(p.numel() * p.element_size() for p in self._model.parameters())

    def _frame(self, inputs: Any, width: int, height: int) -> _Frame:
        images = self._processor.image_processor
        if "reshaped_input_sizes" in inputs:  # SAM: the longer side resized to the input's, the rest padded
            used_h, used_w = (int(v) for v in inputs["reshaped_input_sizes"][0])
            side = (int(images.pad_size["height"]), int(images.pad_size["width"]))
            return _Frame((used_w / width, used_h / height), (used_h, used_w), side)
        side = (int(images.size["height"]), int(images.size["width"]))  # SAM 2: stretched to the square
        return _Frame((side[1] / width, side[0] / height), side, side)

    def _embedding(self, picture: np.ndarray, key: str) -> tuple[Any, _Frame]:
        """The image encoder's output for `picture` and where the picture lies in the model's input, from the
        cache or computed."""
        import torch

        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            inputs = self._processor(images=np.array(picture[..., :3]), return_tensors="pt")
            with torch.inference_mode():
                embedding = self._model.get_image_embeddings(inputs["pixel_values"].to(self.device))
            self.embeddings_computed += 1
            self._cache[key] = (embedding, self._frame(inputs, picture.shape[1], picture.shape[0]))
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
            return self._cache[key]

    def _mask_input(self, previous: np.ndarray, frame: _Frame) -> Any:
        """A previous selection as the decoder's mask prompt: logits (+-10) over the model's input, at the
        decoder's low resolution (4 x the embedding's side)."""
        import cv2
        import torch

        used_h, used_w = frame.used
        whole = np.zeros(frame.side, np.float32)
        whole[:used_h, :used_w] = cv2.resize(previous, (used_w, used_h), interpolation=cv2.INTER_AREA) / 255
        prompts = self._model.config.prompt_encoder_config
        low = 4 * (prompts.image_size // prompts.patch_size)
        logits = (cv2.resize(whole, (low, low), interpolation=cv2.INTER_AREA) * 2 - 1) * 10
        return torch.from_numpy(logits)[None, None].to(self.device)

    def select(self, picture: np.ndarray, prompt: Prompt, *, key: str | None = None) -> Selection:
        import torch

        height, width = picture.shape[:2]
        prompt.check(width, height)
        if prompt.box is None and not prompt.points:
            raise InputError("points: a segmentation model needs a box or a point besides the previous mask")
        self.load()
        embedding, frame = self._embedding(picture, key or picture_key(picture))
        kx, ky = frame.scale
        arguments: dict[str, Any] = {"image_embeddings": embedding, "multimask_output": not prompt.points}
        if prompt.points:
            points = [[[p.x * kx, p.y * ky] for p in prompt.points]]
            arguments["input_points"] = torch.tensor([points], dtype=torch.float32, device=self.device)
            labels = [[1 if p.positive else 0 for p in prompt.points]]
            arguments["input_labels"] = torch.tensor([labels], dtype=torch.long, device=self.device)
        if prompt.box is not None:
            x, y, w, h = prompt.box
            arguments["input_boxes"] = torch.tensor(
                [[[x * kx, y * ky, (x + w) * kx, (y + h) * ky]]], device=self.device
            )
        if prompt.previous is not None:
            arguments["input_masks"] = self._mask_input(prompt.previous, frame)
        with torch.inference_mode():
            output = self._model(**arguments)
        logits = output.pred_masks[0, 0].float().cpu().numpy()  # (masks, h, w) over the model's input
        scores = output.iou_scores[0, 0].float().cpu().numpy()
        best = int(np.argmax(scores))
        low_h, low_w = logits.shape[-2] / frame.side[0], logits.shape[-1] / frame.side[1]
        cropped = logits[best, : max(1, round(frame.used[0] * low_h)), : max(1, round(frame.used[1] * low_w))]
        probability = 1.0 / (1.0 + np.exp(-np.clip(cropped, -30, 30)))
        scale = min(cropped.shape[1] / width, cropped.shape[0] / height)
        mask = refine_to(picture, probability.astype(np.float32), scale)  # (SAM 2's square is stretched back)
        if prompt.previous is not None and prompt.points and not any(p.positive for p in prompt.points):
            mask = np.where(prompt.previous >= 128, mask, 0).astype(np.uint8)  # taking away never adds
        return Selection(mask, float(scores[best]))


def get_selector(name: str | None, selectors: Mapping[str, SelectorFactory] | None = None) -> Selector:
    """A selector by name (None = `grabcut`), or an error listing the names there are."""
    table = SELECTORS if selectors is None else selectors
    try:
        return table[name or GRABCUT]()
    except KeyError:
        raise InputError(f"model: {name!r} is not a selection model; available: {', '.join(sorted(table))}") from None
