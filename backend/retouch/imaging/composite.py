"""Paste a fill back: only pixels inside the feathered mask change, everything else is bit-for-bit kept."""

from __future__ import annotations

import cv2
import numpy as np

from retouch.imaging.mask import bounds, feather, ring


def match_colours(filled: np.ndarray, original: np.ndarray, mask: np.ndarray, width: int = 16) -> np.ndarray:
    """Shift the filled area's mean and spread (per Lab channel) to those of the band around the mask."""
    hole = mask > 0
    around = ring(mask, width)
    if not hole.any() or around.sum() < 16:
        return filled
    lab_fill = cv2.cvtColor(filled, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab_orig = cv2.cvtColor(original, cv2.COLOR_RGB2LAB).astype(np.float32)
    inside, outside = lab_fill[hole], lab_orig[around]
    # the fill's own band is what the colours should agree with; scale only its spread
    gain = np.clip(outside.std(axis=0) / np.maximum(inside.std(axis=0), 1e-3), 0.5, 2.0)
    adjusted = (inside - inside.mean(axis=0)) * gain + outside.mean(axis=0)
    lab_fill[hole] = adjusted
    out = cv2.cvtColor(np.clip(np.rint(lab_fill), 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    result = filled.copy()
    result[hole] = out[hole]
    return result


def composite(original: np.ndarray, filled: np.ndarray, mask: np.ndarray, feather_radius: int) -> np.ndarray:
    """Blend `filled` (HxWx3) into `original` (HxWx3 or HxWx4) through the feathered `mask`.

    Pixels where the blend weight is 0 are copied from `original` untouched (alpha included); where it
    is 1 (the mask itself) they are `filled`'s, fully opaque; only the feathered band in between blends.
    The weights are worked out only around the mask (its bounds grown by the feather), where they can be above 0:
    a small hole in a large picture costs what the hole costs.
    """
    out = original.copy()
    found = bounds(mask)
    if found is None:
        return out
    x, y, width, height = found
    reach = max(feather_radius, 0) + 1
    top, left = max(y - reach, 0), max(x - reach, 0)
    window = (slice(top, min(y + height + reach, mask.shape[0])), slice(left, min(x + width + reach, mask.shape[1])))
    out[window] = _blend(original[window], filled[window], mask[window], feather_radius)
    return out


def _blend(original: np.ndarray, filled: np.ndarray, mask: np.ndarray, feather_radius: int) -> np.ndarray:
    weight = feather(mask, feather_radius)
    out = original.copy()
    inside = weight >= 1
    np.copyto(out[..., :3], filled, where=inside[..., None])  # a masked copy: twice boolean indexing's speed
    if original.shape[2] == 4:
        out[..., 3][inside] = 255
    band = (weight > 0) & ~inside
    if band.any():
        w = weight[band][:, None]
        rgb = original[..., :3][band].astype(np.float32) * (1 - w) + filled[band].astype(np.float32) * w
        out[..., :3][band] = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
        if original.shape[2] == 4:
            alpha = original[..., 3][band].astype(np.float32) * (1 - w[:, 0]) + 255.0 * w[:, 0]
            out[..., 3][band] = np.clip(np.rint(alpha), 0, 255).astype(np.uint8)
    return out
