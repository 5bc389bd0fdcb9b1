"""scripts/recompress_jpegs.py: the JPEG-cost estimate's data (issue 10) is the same tree, every
image one JPEG round further, at the quality and subsampling asked for."""

from pathlib import Path

import numpy as np
from PIL import Image
from repo_scripts import load_script

from deepres.data.jpeg_settings import jpeg_settings

recompress_jpegs = load_script("scripts/recompress_jpegs.py")


def _jpeg_tree(root: Path) -> list[Path]:
    rng = np.random.default_rng(0)
    files = []
    for split in ("train", "test"):
        for label in ("cat", "dog"):
            folder = root / split / label
            folder.mkdir(parents=True)
            path = folder / "0.jpg"
            pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(path, quality=90, subsampling=0)
            files.append(path.relative_to(root))
    return files


def test_the_copy_has_every_image_one_round_further(tmp_path, capsys):
    files = _jpeg_tree(tmp_path / "src")
    assert recompress_jpegs.main([str(tmp_path / "src"), str(tmp_path / "dst")]) == 0
    copied = sorted(p.relative_to(tmp_path / "dst") for p in (tmp_path / "dst").rglob("*.jpg"))
    assert copied == sorted(files)
    for name in files:
        assert jpeg_settings(str(tmp_path / "src" / name)) == ("90", "4:4:4")
        assert jpeg_settings(str(tmp_path / "dst" / name)) == ("75", "4:2:0")
        before = np.asarray(Image.open(tmp_path / "src" / name), np.float64)
        after = np.asarray(Image.open(tmp_path / "dst" / name), np.float64)
        assert after.shape == before.shape and np.abs(after - before).mean() > 1
    said = capsys.readouterr().out
    assert said.startswith("4 images recompressed at quality 75") and "dB" in said
    assert not (tmp_path / "dst.partial").exists()


def test_an_existing_target_or_a_missing_source_is_refused(tmp_path, capsys):
    _jpeg_tree(tmp_path / "src")
    (tmp_path / "dst").mkdir()
    assert recompress_jpegs.main([str(tmp_path / "src"), str(tmp_path / "dst")]) == 2
    assert "dst exists; give a new folder" in capsys.readouterr().err
    assert recompress_jpegs.main([str(tmp_path / "nowhere"), str(tmp_path / "new")]) == 2
    assert "nowhere: not a folder" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
