"""JPEG compression measured from the files (issue 13, item 10): the reproduction report
states what the folder given holds, not a fixed claim."""

import numpy as np
from PIL import Image

from deepres.data.jpeg_settings import data_note, jpeg_settings, measure_jpegs


def _save(path, **options):
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, **options)
    return str(path)


def test_quality_and_subsampling_are_read_from_the_file(tmp_path):
    assert jpeg_settings(_save(tmp_path / "a.jpg", quality=75)) == ("75", "4:2:0")
    assert jpeg_settings(_save(tmp_path / "b.jpg", quality=93, subsampling=0)) == ("93", "4:4:4")
    custom = _save(tmp_path / "c.jpg", qtables=[[3] * 64, [5] * 64])
    assert jpeg_settings(custom)[0] == "custom tables"


def test_the_report_note_describes_the_folder_given(tmp_path):
    files = [_save(tmp_path / "q90" / f"{i}.jpg", quality=90, subsampling=1) for i in range(3)]
    files.append(_save(tmp_path / "q90" / "x.png"))
    note = data_note(str(tmp_path / "q90"), files)
    assert "3 of the 4 training images" in note
    assert (
        "measured from their headers: libjpeg quality 90 (its quantisation tables) with "
        "4:2:2 chroma subsampling in 3 of 3 sampled JPEG files"
    ) in note
    # the folder's path is left out: pytest numbers its folders, and "pytest-275" is one
    said = note.replace(str(tmp_path), "")
    assert "75" not in said and "4:2:0" not in said
    assert "no JPEG files" in data_note(str(tmp_path), files[3:])
    assert measure_jpegs([str(tmp_path / "missing.jpg")]) is None
