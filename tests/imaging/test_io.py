"""Load and check: every kind of picture a user may drop arrives as 8-bit RGB(A), bad files say why."""

from __future__ import annotations

import io
import json
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms

from retouch.errors import InputError
from retouch.imaging.io import a1111_parameters, encode_png, load_mask, load_picture, read_recipe
from tests.support import encode

ORIENTATION = 0x0112


def _png_with_header(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims `width` x `height` (valid CRC) followed by a tiny IDAT and IEND."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def test_rgb_png_loads_unchanged(astronaut):
    picture = load_picture(encode(astronaut))
    assert picture.pixels.dtype == np.uint8
    np.testing.assert_array_equal(picture.pixels, astronaut)
    assert picture.size == (128, 128)
    assert not picture.has_alpha


def test_exif_orientation_is_applied():
    # A picture 40 wide and 20 high, left half red, right half blue, stored with "rotate 90 CW" (6).
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:, :20] = (255, 0, 0)
    stored[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "RetouchCam"  # Make: must survive
    data = encode(stored, "JPEG", quality=95, exif=exif.tobytes())

    picture = load_picture(data)

    assert picture.size == (20, 40), "a 90-degree orientation swaps width and height"
    top, bottom = picture.pixels[2, 10].astype(int), picture.pixels[37, 10].astype(int)
    assert top[0] > 200 and top[2] < 60, f"the stored left (red) is on top once rotated, got {top}"
    assert bottom[2] > 200 and bottom[0] < 60, f"the stored right (blue) is at the bottom, got {bottom}"
    kept = Image.Exif()
    kept.load(picture.exif)
    assert kept.get(ORIENTATION, 1) == 1, "the orientation tag is dropped once applied"
    assert kept[0x010F] == "RetouchCam"


def test_a_broken_exif_block_does_not_stop_the_picture(astronaut):
    data = encode(astronaut, "JPEG", quality=95, exif=b"Exif\x00\x00garbage, not a TIFF header")
    picture = load_picture(data)
    assert picture.size == (128, 128)
    assert np.abs(picture.pixels.astype(int) - astronaut).mean() < 4
    assert picture.exif is None, "the unreadable block is dropped, not copied into the result"
    mask = np.zeros((128, 128), np.uint8)
    mask[:64] = 255
    np.testing.assert_array_equal(load_mask(encode(mask, "JPEG", exif=b"Exif\x00\x00junk-junk"), (128, 128))[:60], 255)


def test_palette_with_transparency_becomes_rgba():
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., :3] = (10, 200, 30)
    rgba[..., 3] = 255
    rgba[:, 8:, 3] = 0
    image = Image.fromarray(rgba, "RGBA").convert("P")  # palette with a transparent entry
    image.info["transparency"] = image.getpixel((12, 4))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=image.getpixel((12, 4)))
    assert Image.open(io.BytesIO(buffer.getvalue())).mode == "P"

    picture = load_picture(buffer.getvalue())

    assert picture.has_alpha
    assert (picture.pixels[:, 8:, 3] == 0).all()
    assert (picture.pixels[:, :8, 3] == 255).all()
    assert tuple(picture.pixels[3, 3, :3]) == (10, 200, 30)


def test_palette_without_transparency_becomes_rgb(astronaut):
    buffer = io.BytesIO()
    Image.fromarray(astronaut).quantize(64).save(buffer, "PNG")
    picture = load_picture(buffer.getvalue())
    assert picture.pixels.shape == (128, 128, 3)
    assert np.abs(picture.pixels.astype(int) - astronaut).mean() < 8, "the palette colours are looked up"


def test_16_bit_grayscale_is_scaled_not_clipped():
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (8, 1))
    data = encode(ramp)
    assert Image.open(io.BytesIO(data)).mode.startswith("I")

    pixels = load_picture(data).pixels

    assert pixels.shape == (8, 64, 3)
    assert pixels[0, 0].tolist() == [0, 0, 0]
    assert pixels[0, -1].tolist() == [255, 255, 255]
    assert 120 <= pixels[0, 32, 0] <= 135, "mid-grey stays mid-grey"
    assert (np.diff(pixels[0, :, 0].astype(int)) >= 0).all(), "the ramp stays a ramp"


@pytest.mark.parametrize("peak", [1.0, 255.0])
def test_float_grayscale_keeps_its_tones(peak):
    # 32-bit float TIFFs come in 0..1 or, as Pillow's own convert("F") makes them, in 8-bit units
    gray = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (4, 1))
    buffer = io.BytesIO()
    Image.fromarray((gray / 255.0 * peak).astype(np.float32), "F").save(buffer, "TIFF")

    pixels = load_picture(buffer.getvalue()).pixels

    assert pixels.shape == (4, 64, 3)
    assert np.abs(pixels[..., 0].astype(int) - gray).max() <= 1


def test_grayscale_l_and_la():
    gray = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (4, 1))
    pixels = load_picture(encode(gray)).pixels
    assert pixels.shape == (4, 64, 3)
    np.testing.assert_array_equal(pixels[..., 1], gray)

    la = np.stack([gray, np.full_like(gray, 255)], axis=-1)
    la[:, :10, 1] = 0
    picture = load_picture(_encode_la(la))
    assert picture.pixels.shape == (4, 64, 4)
    np.testing.assert_array_equal(picture.pixels[..., 0], gray)
    assert (picture.pixels[:, :10, 3] == 0).all() and (picture.pixels[:, 10:, 3] == 255).all()


def _encode_la(la: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(la, "LA").save(buffer, "PNG")
    return buffer.getvalue()


def test_cmyk_is_converted_to_rgb():
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # no cyan, full magenta + yellow: red
    buffer = io.BytesIO()
    cmyk.save(buffer, "JPEG", quality=95)

    picture = load_picture(buffer.getvalue())

    assert picture.pixels.shape == (8, 8, 3)
    red = picture.pixels[4, 4].astype(int)
    assert red[0] > 220 and red[1] < 40 and red[2] < 40, f"CMYK red should load as red, got {red}"


def test_icc_profile_is_kept(astronaut):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    picture = load_picture(encode(astronaut, icc_profile=icc))
    assert picture.icc_profile == icc


def test_mask_luminance_threshold_127():
    values = np.array([[0, 126, 127, 128, 200, 255]], np.uint8)
    mask = load_mask(encode(values), (6, 1))
    assert mask.tolist() == [[0, 0, 0, 255, 255, 255]]


def test_mask_from_rgb_uses_luminance():
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[0, 0] = 255
    rgb[1, 1] = (255, 0, 0)  # bright red is luminance 76: not a fill
    assert load_mask(encode(rgb), (2, 2)).tolist() == [[255, 0], [0, 0]]


def test_mask_from_rgba_alpha():
    rgba = np.zeros((4, 4, 4), np.uint8)  # black everywhere: only the alpha says where to fill
    rgba[1:3, 1:3, 3] = 255
    rgba[0, 0, 3] = 100  # below the threshold
    mask = load_mask(encode(rgba), (4, 4))
    expected = np.zeros((4, 4), np.uint8)
    expected[1:3, 1:3] = 255
    np.testing.assert_array_equal(mask, expected)


def test_mask_of_another_size_is_refused():
    with pytest.raises(InputError, match=r"mask is 10x20 but the image is 20x10"):
        load_mask(encode(np.zeros((20, 10), np.uint8)), (20, 10))


def test_empty_file_is_refused():
    with pytest.raises(InputError, match=r"empty \(0 bytes\)"):
        load_picture(b"")


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"cannot read image file .*nope\.png"):
        load_picture(tmp_path / "nope.png")


def test_non_image_is_refused():
    with pytest.raises(InputError, match=r"not an image"):
        load_picture(b"name,value\nfill,1\n" * 20)


def test_truncated_png_is_refused(astronaut):
    data = encode(astronaut)
    with pytest.raises(InputError, match=r"corrupt or truncated"):
        load_picture(data[: len(data) // 2])


@pytest.mark.parametrize("side", [30000, 9000])
def test_decompression_bomb_is_refused(side):
    # 30000^2 trips Pillow's own bomb check; 9000^2 = 81 M pixels is under Pillow's but over ours.
    with pytest.raises(InputError, match=r"too many pixels|over the limit"):
        load_picture(_png_with_header(side, side))


def test_bomb_mask_is_refused():
    with pytest.raises(InputError, match=r"mask .*(too many pixels|over the limit)"):
        load_mask(_png_with_header(30000, 30000), (30000, 30000))


def test_png_carries_recipe_and_a1111_parameters(astronaut):
    recipe = {
        "engine": "telea",
        "seed": 7,
        "width": 128,
        "height": 128,
        "feather": 4,
        "prompt": "a cat",
        "bbox": {"x": 0, "y": 0, "width": 10, "height": 10},
        "version": "0.1.0",
    }
    data = encode_png(astronaut, recipe)
    assert read_recipe(data) == recipe
    text = Image.open(io.BytesIO(data)).text
    assert json.loads(text["retouch"]) == recipe
    assert text["parameters"] == a1111_parameters(recipe)
    assert text["parameters"].startswith("a cat\n")
    assert "Seed: 7" in text["parameters"] and "Size: 128x128" in text["parameters"]
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(data))), astronaut)


def test_a1111_inpaint_area_says_whole_picture_for_a_whole_box():
    whole = {"bbox": {"x": 0, "y": 0, "width": 64, "height": 32}, "width": 64, "height": 32}
    part = {"bbox": {"x": 8, "y": 0, "width": 16, "height": 16}, "width": 64, "height": 32}
    assert "Inpaint area: Whole picture" in a1111_parameters(whole)
    assert "Inpaint area: Only masked" in a1111_parameters(part)


def test_read_recipe_of_a_plain_png_is_none(astronaut):
    assert read_recipe(encode(astronaut)) is None


@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("bands", [1, 5])
def test_result_png_reads_back_as_its_pixels_recipe_exif_and_icc(monkeypatch, channels, bands):
    """Retouch's own PNG writer (Up filter, deflated in bands on threads): Pillow reads back the same pixels,
    the recipe, the EXIF and the ICC profile; the same input gives the same bytes."""
    from retouch.imaging import png

    monkeypatch.setattr(png, "BAND_BYTES", 1024)
    monkeypatch.setattr(png.os, "cpu_count", lambda: bands)
    pixels = np.random.default_rng(channels).integers(0, 256, (67, 45, channels), dtype=np.uint8)
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "Retouch camera"
    recipe = {"kind": "fill", "prompt": "a wooden bench, ünïcode", "seed": 7}
    data = encode_png(pixels, recipe, exif=exif.tobytes(), icc_profile=profile)
    picture = load_picture(data)
    assert np.array_equal(picture.pixels, pixels)
    assert picture.icc_profile == profile
    assert Image.open(io.BytesIO(data)).getexif()[0x010F] == "Retouch camera"
    assert read_recipe(data) == recipe
    assert data == encode_png(pixels, recipe, exif=exif.tobytes(), icc_profile=profile)


@pytest.mark.parametrize(("prompt", "chunk"), [("a wooden bench, café", b"tEXt"), ("a wooden bench, 木", b"iTXt")])
def test_result_png_text_stands_before_the_pixels_where_readers_look(prompt, chunk):
    """A1111-style readers stop at the first IDAT and look for `parameters` in tEXt: Pillow's `info` finds the
    recipe and the parameters without loading the picture; a prompt beyond Latin-1 goes to UTF-8 iTXt."""
    data = encode_png(np.zeros((8, 8, 3), np.uint8), {"kind": "fill", "prompt": prompt, "seed": 7})
    info = Image.open(io.BytesIO(data)).info  # not loaded: only the chunks before IDAT
    assert prompt in info["parameters"] and json.loads(info["retouch"])["prompt"] == prompt
    parameters_at = data.index(b"parameters\0")
    assert data[parameters_at - 4 : parameters_at] == chunk and parameters_at < data.index(b"IDAT")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _after_header(png: bytes, *chunks: bytes) -> bytes:
    """`png` with `chunks` put right after its IHDR (signature 8 bytes, IHDR 25)."""
    return png[:33] + b"".join(chunks) + png[33:]


def _pillow_png(pixels: np.ndarray, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", **options)
    return buffer.getvalue()


def _xmp_orientation(orientation: int) -> bytes:
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="{orientation}"/>'
        "</rdf:RDF></x:xmpmeta>"
    )
    return _chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + xmp.encode())


_RGB = np.random.default_rng(5).integers(0, 256, (37, 53, 3), dtype=np.uint8)
_EXIF_TURNED = Image.Exif()
_EXIF_TURNED[ORIENTATION] = 6
_PNG_KINDS = {
    # read by OpenCV (libpng), which must give what Pillow gives
    "rgb": (_pillow_png(_RGB), True),
    "rgba": (_pillow_png(np.random.default_rng(6).integers(0, 256, (37, 53, 4), dtype=np.uint8)), True),
    "grey mask": (_pillow_png(np.where(np.arange(53) > 20, 255, 0).astype(np.uint8)[None].repeat(37, 0)), True),
    "icc profile": (
        _pillow_png(_RGB, icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()),
        True,
    ),
    "gamma and significant bits": (
        _after_header(_pillow_png(_RGB), _chunk(b"gAMA", struct.pack(">I", 100000)), _chunk(b"sBIT", b"\5\6\5")),
        True,
    ),
    "written by libpng": (cv2.imencode(".png", _RGB[..., ::-1])[1].tobytes(), True),
    "written by Retouch": (encode_png(_RGB, {"kind": "fill"}), True),
    # read by Pillow, as before: a colour key, an orientation in EXIF or XMP, 16 bits, a palette
    "colour key": (_pillow_png(_RGB, transparency=(1, 2, 3)), False),
    "exif orientation": (_pillow_png(_RGB, exif=_EXIF_TURNED.tobytes()), False),
    "xmp orientation": (_after_header(_pillow_png(_RGB), _xmp_orientation(6)), False),
    "16 bits": (_pillow_png(_RGB[..., 0].astype(np.uint16) * 257), False),
    "palette": (_pillow_png(_RGB[..., 0] // 64, bits=2), False),
}


@pytest.mark.parametrize("kind", list(_PNG_KINDS))
def test_plain_pngs_decode_to_what_pillow_reads(monkeypatch, kind):
    """Plain 8-bit PNGs (what the canvas uploads) are decoded by OpenCV, faster; every PNG, that way or
    Pillow's, gives the same pixels, ICC profile, orientation and grey flag as Pillow's reading alone."""
    from retouch.imaging import io as picture_io

    data, plain = _PNG_KINDS[kind]
    assert (picture_io._plain_png(data) is not None) is plain
    fast = load_picture(data)
    monkeypatch.setattr(picture_io, "_plain_png", lambda data: None)
    pillow = load_picture(data)
    assert np.array_equal(fast.pixels, pillow.pixels)
    assert (fast.icc_profile, fast.exif, fast.grey, fast.is_plain_png) == (
        pillow.icc_profile,
        pillow.exif,
        pillow.grey,
        pillow.is_plain_png,
    )
    if "orientation" in kind:
        assert fast.size == (37, 53), "the stored 53x37 picture is turned upright"


def test_plain_png_limits_and_damage_are_said_as_before(astronaut):
    data = encode(astronaut)
    with pytest.raises(InputError, match=r"over the limit of 1000"):
        load_picture(data, max_pixels=1000)
    damaged = bytearray(data)
    damaged[data.index(b"IDAT") + 40] ^= 0xFF
    with pytest.raises(InputError, match="image is corrupt or truncated"):
        load_picture(bytes(damaged))
