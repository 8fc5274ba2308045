"""Decoding and encoding at the edges: bytes in, checked arrays out, and PNGs that carry their recipe."""

from __future__ import annotations

import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from retouch.errors import InputError
from retouch.imaging.png import write_png

DEFAULT_MAX_PIXELS = 64_000_000  # 8000 x 8000
RECIPE_KEY = "retouch"
MASK_THRESHOLD = 127
ORIENTATION_TAG = 0x0112


@dataclass
class Picture:
    """A decoded picture: RGB or RGBA pixels plus what must survive a round trip."""

    pixels: np.ndarray  # HxWx3 or HxWx4 uint8
    exif: bytes | None = None
    icc_profile: bytes | None = None
    #: the bytes were a PNG already holding exactly these pixels (8-bit RGB/RGBA, upright)
    is_plain_png: bool = False
    #: the file had one grey channel (the canvas's masks): the three channels are equal
    grey: bool = False

    @property
    def size(self) -> tuple[int, int]:
        """(width, height), as Pillow says it."""
        return self.pixels.shape[1], self.pixels.shape[0]

    @property
    def has_alpha(self) -> bool:
        return self.pixels.shape[2] == 4


def _open(data: bytes | Path, what: str, max_pixels: int) -> Image.Image:
    if isinstance(data, Path):
        try:
            data = data.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {what} file {str(data)!r}: {exc.strerror}") from None
    if not data:
        raise InputError(f"{what} is empty (0 bytes)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit is checked below
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise InputError(f"{what} has too many pixels (limit {max_pixels})") from None
        except Exception:
            raise InputError(f"{what} is not an image Retouch can read (PNG, JPEG, WebP, TIFF, ...)") from None
    width, height = image.size
    if width < 1 or height < 1:
        raise InputError(f"{what} is empty ({width}x{height} pixels)")
    if width * height > max_pixels:
        raise InputError(f"{what} is {width}x{height} = {width * height} pixels, over the limit of {max_pixels}")
    try:
        image.load()
    except Exception as exc:
        raise InputError(f"{what} is corrupt or truncated: {exc}") from None
    return image


def _oriented(image: Image.Image) -> tuple[Image.Image, Image.Exif, int]:
    """The picture turned as its EXIF orientation says, its EXIF without the orientation tag, and the
    orientation it had (1 = as stored).

    A broken EXIF block (some cameras and editors write them) does not make the pixels unreadable:
    the picture is used as stored and the unreadable metadata is dropped.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about each corrupt EXIF entry it skips
        try:
            orientation = image.getexif().get(ORIENTATION_TAG, 1)
            if orientation not in range(2, 9):  # upright: exif_transpose would only copy the pixels
                return image, image.getexif(), orientation
            turned = ImageOps.exif_transpose(image) or image
            return turned, turned.getexif(), orientation
        except Exception:  # Pillow's EXIF parser raises SyntaxError, ValueError, struct.error, ...
            return image, Image.Exif(), 1


def _to_8bit(image: Image.Image) -> Image.Image:
    """Any mode to RGB or RGBA, 8 bits per channel."""
    if image.mode in ("RGB", "RGBA"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16/32-bit grayscale: scale to 8 bits rather than clip.
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        gray = np.clip(np.round(array * (255.0 / peak)), 0, 255).astype(np.uint8)
        return Image.fromarray(np.stack([gray] * 3, axis=-1), "RGB")
    if image.mode == "F":
        # float grayscale comes as 0..1 or, as Pillow itself writes it, in 8-bit units
        array = np.nan_to_num(np.asarray(image, dtype=np.float64))
        scale = 255.0 if array.max() <= 1.0 else 1.0
        gray = np.clip(np.round(array * scale), 0, 255).astype(np.uint8)
        return Image.fromarray(np.stack([gray] * 3, axis=-1), "RGB")
    has_alpha = image.mode in ("LA", "La", "RGBa", "PA") or (image.mode == "P" and "transparency" in image.info)
    return image.convert("RGBA" if has_alpha else "RGB")


def load_picture(data: bytes | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS, what: str = "image") -> Picture:
    """Decode an image to RGB(A) uint8 with its EXIF orientation applied."""
    image = _open(data, what, max_pixels)
    icc = image.info.get("icc_profile")
    # 8-bit RGB, RGBA or grey (the canvas's pictures and masks): a server may keep the file as it came
    plain = image.format == "PNG" and image.mode in ("RGB", "RGBA", "L")
    image, exif, orientation = _oriented(image)
    exif_bytes = exif.tobytes() if len(exif) else None
    if image.mode == "CMYK":
        icc = None  # the profile describes CMYK, not the RGB we hand on
    grey = image.mode == "L"
    pixels = np.array(_to_8bit(image), dtype=np.uint8)
    return Picture(pixels, exif_bytes, icc, is_plain_png=plain and orientation == 1, grey=grey)


def load_mask(
    data: bytes | Path, size: tuple[int, int], *, max_pixels: int = DEFAULT_MAX_PIXELS, what: str = "mask"
) -> np.ndarray:
    """A mask as HxW uint8, 255 = fill. Luminance above 127 fills; an RGBA mask uses its alpha."""
    image = _open(data, what, max_pixels)
    image, _, _ = _oriented(image)
    if image.size != size:
        raise InputError(
            f"{what} is {image.size[0]}x{image.size[1]} but the image is {size[0]}x{size[1]}; they must match"
        )
    return mask_from_pixels(np.asarray(_to_8bit(image)))


def mask_of(picture: Picture) -> np.ndarray:
    """A decoded picture read as a mask (see `mask_from_pixels`); a grey one's channel is read as it is."""
    if picture.grey:
        return _binary(picture.pixels[..., 0])
    return mask_from_pixels(picture.pixels)


def mask_from_pixels(pixels: np.ndarray) -> np.ndarray:
    """A decoded RGB(A) picture read as a mask: its alpha if it has transparency, else its luminance."""
    if pixels.shape[2] == 4 and pixels[..., 3].min() < 255:
        channel = pixels[..., 3]
    else:
        channel = np.asarray(Image.fromarray(np.ascontiguousarray(pixels)).convert("L"))
    return _binary(channel)


def _binary(channel: np.ndarray) -> np.ndarray:
    """255 where the channel is above the threshold, else 0 (OpenCV: 3 ms at 4096², `np.where` 100 ms)."""
    return cv2.threshold(np.ascontiguousarray(channel), MASK_THRESHOLD, 255, cv2.THRESH_BINARY)[1]


def _whole_picture(recipe: dict) -> bool:
    """Whether the recipe's box is the whole picture (the pipeline always writes a concrete box)."""
    box = recipe.get("bbox")
    if not isinstance(box, dict):
        return box is None
    whole = {"x": 0, "y": 0, "width": recipe.get("width"), "height": recipe.get("height")}
    return box == whole


def a1111_parameters(recipe: dict) -> str:
    """The AUTOMATIC1111 `parameters` text, which many tools read."""
    lines = []
    if recipe.get("prompt"):
        lines.append(recipe["prompt"])
    if recipe.get("negative_prompt"):
        lines.append(f"Negative prompt: {recipe['negative_prompt']}")
    fields = {
        "Steps": recipe.get("steps"),
        "Sampler": recipe.get("scheduler") or recipe.get("engine"),
        "CFG scale": recipe.get("guidance"),
        "Seed": recipe.get("seed"),
        "Size": f"{recipe['width']}x{recipe['height']}" if "width" in recipe else None,
        "Model": recipe.get("engine"),
        "Denoising strength": recipe.get("strength"),
        "Mask blur": recipe.get("feather"),
        "Inpaint area": "Whole picture" if _whole_picture(recipe) else "Only masked",
        "Version": f"Retouch {recipe.get('version', '')}".strip(),
    }
    lines.append(", ".join(f"{k}: {v}" for k, v in fields.items() if v is not None))
    return "\n".join(lines)


def encode_png(
    pixels: np.ndarray,
    recipe: dict | None = None,
    *,
    exif: bytes | None = None,
    icc_profile: bytes | None = None,
) -> bytes:
    """PNG bytes carrying the recipe as JSON and as A1111 `parameters`, plus the input's EXIF and ICC."""
    texts = None
    if recipe is not None:
        texts = {RECIPE_KEY: json.dumps(recipe, sort_keys=True), "parameters": a1111_parameters(recipe)}
    return write_png(pixels, texts, exif=exif, icc_profile=icc_profile)


def encode_mask_png(mask: np.ndarray) -> bytes:
    """A mask (HxW uint8, 255 = selected) as a one-channel grey PNG."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(mask), "L").save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def read_recipe(png: bytes | Path) -> dict | None:
    """The recipe a Retouch PNG carries, or None."""
    data = png.read_bytes() if isinstance(png, Path) else png
    with Image.open(io.BytesIO(data)) as image:
        text = image.info.get(RECIPE_KEY) or getattr(image, "text", {}).get(RECIPE_KEY)
    return json.loads(text) if text else None
