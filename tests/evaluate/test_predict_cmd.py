"""`deepres predict` and `deepres embed` on a folder that mixes good and bad files."""

import json
import shutil

import numpy as np
import pytest
import torch

from deepres.cli import main
from deepres.data import Preprocessing
from deepres.weights import load_model

BAD = {
    "notes.txt": "not an image file",
    "red/text.jpg": "a text file, not an image",
    "red/empty.png": "empty file (0 bytes)",
    "blue/cut.png": "corrupt or truncated PNG",
}


@pytest.fixture
def mixed(tmp_path, color_folder):
    """Six good images (PNG and JPEG) and four bad files, in class folders and loose."""
    root = tmp_path / "mixed"
    for name in ("red", "blue", "gray"):
        (root / name).mkdir(parents=True)
        shutil.copy(color_folder / "test" / name / "0.png", root / name / "a.png")
    from PIL import Image

    Image.open(color_folder / "test" / "red" / "1.png").save(root / "red" / "b.jpg")
    Image.open(color_folder / "test" / "blue" / "1.png").save(root / "blue" / "b.JPEG")
    shutil.copy(color_folder / "test" / "gray" / "1.png", root / "loose.png")
    (root / "notes.txt").write_text("not a picture")
    (root / "red" / "text.jpg").write_text("hello, I am text")
    (root / "red" / "empty.png").write_bytes(b"")
    good = (color_folder / "test" / "blue" / "2.png").read_bytes()
    (root / "blue" / "cut.png").write_bytes(good[: len(good) // 2])
    return root


def _direct_probabilities(run, path):
    """The network's softmax for one file, computed without deepres.evaluate."""
    trained = load_model(run)
    prep = Preprocessing.from_record(trained.preprocessing, str(trained.path), trained.input_size)
    x = prep.normalizer()(prep.read(str(path)))[None]
    with torch.no_grad():
        return dict(zip(trained.classes, trained.model(x).softmax(1)[0].tolist()))


def test_every_good_file_is_predicted_and_every_bad_one_named(color_run, mixed, capsys):
    code = main(
        [
            "predict",
            str(color_run),
            str(mixed),
            str(mixed / "missing.png"),
            "--top-k",
            "2",
            "--batch-size",
            "2",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    lines = out.splitlines()
    assert lines[0].split() == ["file", "top-1", "prob", "top-2", "prob"]
    predicted = [line.split()[0] for line in lines[1:]]
    assert predicted == [
        str(mixed / p)
        for p in ("blue/a.png", "blue/b.JPEG", "gray/a.png", "loose.png", "red/a.png", "red/b.jpg")
    ]
    for name, reason in {**BAD, "missing.png": "no such file or folder"}.items():
        assert f"deepres predict: error: {mixed / name}: {reason}" in err
    assert "5 of 11 inputs could not be read" in err and "Traceback" not in err


def test_json_lines_hold_the_network_probabilities(color_run, mixed, capsys):
    assert main(["predict", str(color_run), str(mixed), "--json", "--top-k", "3"]) == 1
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 10 and len({r["file"] for r in records}) == 10
    errors = {r["file"]: r["error"] for r in records if "error" in r}
    assert sorted(errors) == sorted(str(mixed / name) for name in BAD)
    assert all(errors[str(mixed / name)].startswith(reason) for name, reason in BAD.items())
    for record in records:
        if "error" in record:
            continue
        top = record["top"]
        assert len(top) == 3 and [t["probability"] for t in top] == sorted(
            (t["probability"] for t in top), reverse=True
        )
        direct = _direct_probabilities(color_run, record["file"])
        for t in top:
            assert t["probability"] == pytest.approx(direct[t["class"]], abs=1e-5)
        assert top[0]["class"] == max(direct, key=direct.get)


def test_embed_writes_features_and_the_file_list(color_run, mixed, tmp_path, capsys):
    out = tmp_path / "emb" / "features.npy"
    assert main(["embed", str(color_run), str(mixed), "--output", str(out)]) == 1
    features = np.load(out)
    files = (tmp_path / "emb" / "features.files.txt").read_text().splitlines()
    assert features.shape == (6, 64) and features.dtype == np.float32 and len(files) == 6
    trained = load_model(color_run)
    prep = Preprocessing.from_record(trained.preprocessing, str(trained.path), trained.input_size)
    x = torch.stack([prep.normalizer()(prep.read(f)) for f in files])
    with torch.no_grad():
        direct = trained.model.forward_head(trained.model.forward_features(x), pre_logits=True)
    np.testing.assert_allclose(features, direct.numpy(), atol=1e-5, rtol=1e-4)
    assert "4 of 10 inputs could not be read" in capsys.readouterr().err
