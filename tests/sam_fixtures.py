"""A catalog holding one tiny random segment-anything model, registered with `retouch models add`'s code."""

from __future__ import annotations

import pytest

from retouch.catalog import add_model
from tests.tiny_sam import save_tiny_sam


@pytest.fixture(scope="session")
def sam_catalog(tmp_path_factory):
    """A catalog file with `tiny-sam` (family `sam`, found from the folder's config.json)."""
    root = tmp_path_factory.mktemp("sam")
    save_tiny_sam(root / "tiny-sam")
    catalog = root / "catalog.yaml"
    entry = add_model(catalog, str(root / "tiny-sam"), "tiny-sam")
    assert entry.family == "sam"
    return catalog
