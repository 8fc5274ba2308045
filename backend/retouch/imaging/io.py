"""Decoding and encoding at the edges: bytes in, checked arrays out, and PNGs that carry their recipe."""

from __future__ import annotations

import io
import json
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from retouch.errors import InputError
from retouch.imaging.png import SIGNATURE, write_png

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


def _read(data: bytes | Path, what: str) -> bytes:
    if isinstance(data, Path):
        try:
            data = data.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {what} file {str(data)!r}: {exc.strerror}") from None
    if not data:
        raise InputError(f"{what} is empty (0 bytes)")
    return data


def _check_size(width: int, height: int, what: str, max_pixels: int) -> None:
    if width < 1 or height < 1:
        raise InputError(f"{what} is empty ({width}x{height} pixels)")
    if width * height > max_pixels:
        raise InputError(f"{what} is {width}x{height} = {width * height} pixels, over the limit of {max_pixels}")


def _open(data: bytes | Path, what: str, max_pixels: int) -> Image.Image:
    data = _read(data, what)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit is checked below
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise InputError(f"{what} has too many pixels (limit {max_pixels})") from None
        except Exception:
            raise InputError(f"{what} is not an image Retouch can read (PNG, JPEG, WebP, TIFF, ...)") from None
    _check_size(*image.size, what, max_pixels)
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


@dataclass(frozen=True)
class PlainPng:
    """What the header and chunks of an 8-bit RGB, RGBA or grey PNG say, for the fast path of `load_picture`."""

    width: int
    height: int
    icc_profile: bytes | None


#: chunks after which OpenCV's pixels would not be Pillow's, or the picture not upright: a colour key (tRNS)
#: becomes alpha in one and not the other, EXIF may turn it, an animation (acTL) is Pillow's to read
_NOT_PLAIN = frozenset({b"tRNS", b"eXIf", b"acTL"})
_TEXT = frozenset({b"tEXt", b"zTXt", b"iTXt"})
#: text chunks from which Pillow reads an orientation too (ImageMagick's EXIF, XMP's tiff:Orientation)
_ORIENTING_TEXT = (b"Raw profile type exif\0", b"XML:com.adobe.xmp\0")


def _plain_png(data: bytes) -> PlainPng | None:
    """The PNG's size and ICC profile when it is one OpenCV decodes to exactly the pixels Pillow gives (8 bits,
    RGB, RGBA or grey, no colour key, no EXIF, still); None for anything else, which Pillow then reads. Only the
    chunk headers are walked (the pixels' chunks are skipped), so this costs microseconds."""
    if not data.startswith(SIGNATURE) or len(data) < 33 or data[12:16] != b"IHDR":
        return None
    width, height, depth, colour_type = struct.unpack_from(">IIBB", data, 16)
    if depth != 8 or colour_type not in (0, 2, 6):
        return None
    icc = None
    at = 8
    while at + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, at)
        if kind in _NOT_PLAIN or (kind in _TEXT and data.startswith(_ORIENTING_TEXT, at + 8)):
            return None
        if kind == b"iCCP":
            chunk = data[at + 8 : at + 8 + length]
            name_end = chunk.find(b"\0")
            try:
                icc = zlib.decompress(chunk[name_end + 2 :]) if name_end > 0 else None
            except zlib.error:
                return None  # Pillow says what is wrong with it
        if kind == b"IEND":
            return PlainPng(width, height, icc)
        at += 12 + length
    return None  # truncated: Pillow says so


_TO_RGB = {1: cv2.COLOR_GRAY2RGB, 3: cv2.COLOR_BGR2RGB, 4: cv2.COLOR_BGRA2RGBA}


def _decode_plain_png(data: bytes, plain: PlainPng) -> Picture | None:
    """The pixels by OpenCV's PNG decoder (libpng: about 1.5 times Pillow's speed on photographs, ten times on
    masks), or None where it refuses the file (Pillow then says why)."""
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None or decoded.dtype != np.uint8 or decoded.shape[:2] != (plain.height, plain.width):
        return None
    channels = 1 if decoded.ndim == 2 else decoded.shape[2]
    pixels = cv2.cvtColor(decoded, _TO_RGB[channels])
    return Picture(pixels, None, plain.icc_profile, is_plain_png=True, grey=channels == 1)


def load_picture(data: bytes | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS, what: str = "image") -> Picture:
    """Decode an image to RGB(A) uint8 with its EXIF orientation applied."""
    data = _read(data, what)
    header = _plain_png(data)
    if header is not None:
        _check_size(header.width, header.height, what, max_pixels)
        picture = _decode_plain_png(data, header)
        if picture is not None:
            return picture
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
