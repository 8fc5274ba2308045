"""Face detection on real photographs: the faces are found where they are, and nothing where there is none."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from retouch.catalog import Catalog, DetectorEntry, save_catalog
from retouch.detect.faces import DetectParams, HogDetector, detect_faces, get_detector, search_scale
from retouch.errors import EngineError, InputError
from retouch.registry import face_detectors
from tests.faces_scenes import ASTRONAUT_FACE, astronaut_face, group, iou, lfw_face, paste, rocket_group


@pytest.fixture(scope="module")
def hog() -> HogDetector:
    return HogDetector()


def assert_found(faces, boxes, min_iou=0.5):
    """Every box is matched by one detection and there is no other detection."""
    assert len(faces) == len(boxes), (faces, boxes)
    for box in boxes:
        best = max(iou(box, face.box) for face in faces)
        assert best >= min_iou, (box, faces)


def test_astronaut_face_is_found_where_it_is(hog):
    found = detect_faces(data.astronaut(), DetectParams(), hog)
    assert_found(found.faces, [ASTRONAUT_FACE], 0.8)
    assert found.faces[0].score > 0.5
    assert found.smallest_face <= 40


def test_group_picture_faces_of_40_to_96_px_are_all_found_left_to_right(hog):
    picture, boxes = rocket_group()
    found = detect_faces(picture, DetectParams(), hog)
    assert_found(found.faces, boxes)
    assert [f.x for f in found.faces] == sorted(f.x for f in found.faces)


@pytest.mark.parametrize("name", ["coffee", "rocket", "chelsea", "immunohistochemistry", "hubble_deep_field", "retina"])
def test_face_free_photographs_have_no_faces(hog, name):
    assert detect_faces(getattr(data, name)(), DetectParams(), hog).faces == []


def test_a_cat_face_is_not_a_face_but_a_person_beside_it_is(hog):
    picture, boxes = group(data.chelsea(), [("astronaut", 48, (330, 20))])
    assert_found(detect_faces(picture, DetectParams(), hog).faces, boxes)


def lfw_grid(indices: range, side: int) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """LFW pictures in a 10-wide grid on grey, one `side` apart from each other, and their boxes."""
    rows = (len(indices) + 9) // 10
    picture = np.full((rows * 2 * side + side, 21 * side, 3), 128, np.uint8)
    boxes = []
    for n, index in enumerate(indices):
        x, y = side + (n % 10) * 2 * side, side + (n // 10) * 2 * side
        picture = paste(picture, lfw_face(index, side), (x, y))
        boxes.append((x, y, side, side))
    return picture, boxes


def test_most_lfw_faces_are_found_and_no_lfw_non_face(hog):
    """Labeled Faces in the Wild's 100 faces and 100 non-faces, 40 px each, in two grids."""
    thorough = DetectParams(search_pixels=8_000_000)  # the whole 840x840 grid at 2x: faces of 40 px
    faces, boxes = lfw_grid(range(100), 40)
    found = detect_faces(faces, thorough, hog).faces
    hits = sum(any(iou(f.box, box) >= 0.5 for f in found) for box in boxes)
    assert hits >= 80
    assert len(found) == hits  # nothing found between the faces
    others, _ = lfw_grid(range(100, 200), 40)
    assert detect_faces(others, thorough, hog).faces == []


def test_large_picture_is_searched_reduced_and_boxes_come_back_in_its_pixels(hog):
    background = cv2.resize(data.coffee(), (3000, 2000), interpolation=cv2.INTER_CUBIC)
    picture, boxes = group(background, [("astronaut", 300, (200, 300)), ("astronaut", 500, (1900, 700))])
    found = detect_faces(picture, DetectParams(), hog)
    assert found.scale == pytest.approx((1024 * 1024 / (3000 * 2000)) ** 0.5)  # 1024x1024's area is searched
    assert found.smallest_face > 100  # said, not hidden: smaller faces are not looked for at this budget
    assert_found(found.faces, boxes, 0.7)


def test_small_faces_in_a_large_picture_need_a_larger_search(hog):
    background = cv2.resize(data.coffee(), (1500, 1000), interpolation=cv2.INTER_CUBIC)
    picture, boxes = group(background, [("astronaut", 60, (700, 400))])
    quick = detect_faces(picture, DetectParams(), hog)
    assert quick.smallest_face > 60 and quick.faces == []
    thorough = detect_faces(picture, DetectParams(search_pixels=4_000_000), hog)
    assert thorough.smallest_face <= 60
    assert_found(thorough.faces, boxes)


def test_rgba_pictures_are_searched_on_their_colours(hog):
    rgba = np.dstack([data.astronaut(), np.full((512, 512), 255, np.uint8)])
    assert_found(detect_faces(rgba, DetectParams(), hog).faces, [ASTRONAUT_FACE], 0.8)


def test_search_scale_brings_the_smallest_face_to_the_window_within_the_budget():
    assert search_scale((500, 500), 80, 40, 1_000_000) == 2.0
    assert search_scale((4096, 4096), 80, 40, 1_000_000) == pytest.approx(1000 / 4096)
    assert search_scale((2048, 2048), 80, 40, 64_000_000) == 2.0


def test_threshold_trades_recall_for_precision(hog):
    picture, _ = astronaut_face(80)
    strict = detect_faces(picture, DetectParams(threshold=1.0), hog).faces
    loose = detect_faces(picture, DetectParams(threshold=-0.5), hog).faces
    assert len(loose) >= len(strict)
    assert all(f.score >= 1.0 for f in strict)
    assert all(f.score >= -0.5 for f in loose)


# ------------------------------------------------------------------------------------------ registered detectors


def test_unknown_detector_names_the_ones_there_are():
    with pytest.raises(InputError, match=r"face detector 'yunet' is unknown; available: hog"):
        get_detector("yunet")


def test_a_registered_yunet_file_is_offered_by_name(tmp_path):
    catalog = tmp_path / "catalog.yaml"
    save_catalog(Catalog(detectors=[DetectorEntry(name="yunet", source="./face_yunet.onnx")]), catalog)
    table = face_detectors(catalog)
    assert sorted(table) == ["hog", "yunet"]
    detector = get_detector("yunet", table)
    assert detector.name == "yunet" and detector.path == tmp_path / "face_yunet.onnx"


def test_a_yunet_file_that_is_missing_is_named(tmp_path):
    catalog = tmp_path / "catalog.yaml"
    save_catalog(Catalog(detectors=[DetectorEntry(name="yunet", source="./gone.onnx")]), catalog)
    detector = get_detector("yunet", face_detectors(catalog))
    with pytest.raises(InputError, match=r"face detector 'yunet': model file '.*gone.onnx' does not exist"):
        detect_faces(data.astronaut(), DetectParams(detector="yunet"), detector)


def test_a_file_that_is_not_a_yunet_model_is_refused_with_its_name(tmp_path):
    (tmp_path / "broken.onnx").write_bytes(b"not an onnx graph")
    catalog = tmp_path / "catalog.yaml"
    save_catalog(Catalog(detectors=[DetectorEntry(name="yunet", source="broken.onnx")]), catalog)
    detector = get_detector("yunet", face_detectors(catalog))
    with pytest.raises(EngineError, match=r"OpenCV cannot load '.*broken.onnx' as a YuNet ONNX model"):
        detect_faces(data.astronaut(), DetectParams(detector="yunet"), detector)


def test_a_detector_must_be_an_onnx_file_with_a_free_name(tmp_path):
    with pytest.raises(ValueError, match="a YuNet detector is an .onnx file"):
        DetectorEntry(name="yunet", source="face.pth")
    catalog = tmp_path / "catalog.yaml"
    save_catalog(Catalog(detectors=[DetectorEntry(name="hog", source="x.onnx")]), catalog)
    with pytest.raises(InputError, match="detector 'hog' has the name of a built-in detector"):
        face_detectors(catalog)
