"""Retouch: an inpainting studio. The fill pipeline lives in `retouch.pipeline`."""

__version__ = "0.1.0"
