"""Trained weights shipped by name (`deepres ship`, tests/ship/), used from Python and from
every command that takes weights, each load checked against the card once.

The tests ship into a temporary checkout and point DEEPRES_WEIGHTS_DIR at it, so the real
package data is never touched."""

import dataclasses
import hashlib
import json
import shutil

import numpy as np
import pytest
import torch
import yaml
from PIL import Image
from runs import train_run

import deepres
from deepres.catalog import WEIGHTS_DIR_VARIABLE
from deepres.cli import main
from deepres.weights import (
    CheckpointError,
    load_checkpoint,
    load_model,
    read_weights,
)


@pytest.fixture
def by_name(shipped_digits, monkeypatch):
    """The shipped weights of ``shipped_digits`` are the ones deepres knows by name."""
    to, card = shipped_digits
    monkeypatch.setenv(WEIGHTS_DIR_VARIABLE, str(to.folder))
    return card


def test_shipped_weights_are_the_final_ones_in_float16(by_name, digits_run):
    model = deepres.create_model("resnet20", weights="digits")
    final = load_checkpoint(digits_run / "checkpoints" / "last.pt")["model"]
    for key, value in model.state_dict().items():
        expected = final[key].half().float() if final[key].is_floating_point() else final[key]
        assert torch.equal(value, expected), key
    assert deepres.list_weights() == ["resnet20-digits"]
    trained = load_model("resnet20-digits")
    assert trained.classes == [str(d) for d in range(10)] and trained.preprocessing is not None
    assert deepres.create_model("resnet20", weights="digits", num_classes=3).num_classes == 3


def test_eval_export_predict_embed_take_the_name(by_name, tmp_path, capsys):
    assert main(["eval", "resnet20-digits", "--out", str(tmp_path / "eval"), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["modes"]["center"]["top1_error"] == by_name.test_error
    assert main(["export", "resnet20-digits", "--output", str(tmp_path / "r.safetensors")]) == 0
    assert read_weights(tmp_path / "r.safetensors").info["model_name"] == "resnet20"
    Image.fromarray(np.full((8, 8), 200, np.uint8)).save(tmp_path / "digit.png")
    assert main(["predict", "resnet20-digits", str(tmp_path / "digit.png"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["file"].endswith("digit.png")
    assert (
        main(
            [
                "embed",
                "resnet20-digits",
                str(tmp_path / "digit.png"),
                "--output",
                str(tmp_path / "f.npy"),
            ]
        )
        == 0
    )
    assert np.load(tmp_path / "f.npy").shape == (1, 64)


def test_train_init_from_the_name(by_name, tmp_path, capsys):
    run = train_run(
        tmp_path / "tuned",
        "--init-from",
        "resnet20-digits",
        "--data",
        "digits",
        "--iterations",
        "2",
    )
    assert "loaded" in capsys.readouterr().err
    assert yaml.safe_load((run / "recipe.yaml").read_text())["init_from"] == "resnet20-digits"


def test_unknown_name_lists_the_shipped_ones(by_name, capsys):
    assert main(["predict", "resnet20-cifar10", "x.png"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "shipped: resnet20-digits" in err
    with pytest.raises(ValueError, match="shipped: resnet20-digits"):
        deepres.create_model("resnet56", weights="digits")


def test_damaged_weights_are_refused_by_their_sha256(shipped_digits, tmp_path, monkeypatch, capsys):
    folder = shutil.copytree(shipped_digits[0].folder, tmp_path / "shipped")
    with open(folder / "resnet20-digits.safetensors", "r+b") as f:
        f.seek(-1, 2)
        last = f.read(1)
        f.seek(-1, 2)
        f.write(bytes([last[0] ^ 1]))  # one bit of one weight
    monkeypatch.setenv(WEIGHTS_DIR_VARIABLE, str(folder))
    assert main(["eval", "resnet20-digits", "--out", str(tmp_path / "eval")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sha256" in err and "reinstall deepres" in err


def test_models_shows_the_shipped_weights_and_their_test_error(by_name, capsys):
    assert main(["models", "resnet2*"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert rows["resnet20"].endswith(f"digits {100 * by_name.test_error:.2f}% test error")
    assert rows["resnet20"].count("test error") == 1


def test_serve_describes_shipped_weights_with_their_card(by_name, digits_run):
    from deepres.engine import open_engine
    from deepres.serve.service import Service
    from deepres.weights import load_model

    for weights, card in (("resnet20-digits", by_name.to_dict()), (digits_run, None)):
        trained = load_model(weights)
        prep = trained.image_preprocessing()
        engine = open_engine(trained.model, "scores", "torch", image_shape=(1, 8, 8))
        assert Service(trained, prep, engine).describe()["model_card"] == card


def test_each_load_of_a_shipped_file_checks_it_once_against_its_card(
    shipped_digits, tmp_path, monkeypatch
):
    """The card's sha256 covers the whole file, the digest that deepres writes into every
    safetensors header too: a shipped file is checked against its card alone, any other
    file against its header. A file whose header digest is wrong (here: a bit of it flipped)
    loads by name when its card vouches for it, and is refused anywhere else."""
    to, card = shipped_digits
    folder = shutil.copytree(to.folder, tmp_path / "shipped")
    weights = folder / card.file
    data = bytearray(weights.read_bytes())
    at = data.index(b'"deepres_sha256":"') + len(b'"deepres_sha256":"')
    data[at] ^= 1  # one hex digit of the header's digest, to another character
    weights.write_bytes(bytes(data))
    vouched = dataclasses.replace(card, sha256=hashlib.sha256(data).hexdigest())
    (folder / f"{card.name}.json").write_text(vouched.to_json())
    monkeypatch.setenv(WEIGHTS_DIR_VARIABLE, str(folder))
    assert load_model(card.name).model_name == "resnet20"
    assert deepres.create_model("resnet20", weights="digits").num_classes == 10
    elsewhere = shutil.copyfile(weights, tmp_path / "copy.safetensors")
    with pytest.raises(CheckpointError, match="do not match the SHA-256 recorded"):
        load_model(elsewhere)


def test_a_card_without_a_field_is_one_line_naming_it(
    shipped_digits, tmp_path, monkeypatch, capsys
):
    to, card = shipped_digits
    folder = shutil.copytree(to.folder, tmp_path / "shipped")
    values = card.to_dict()
    del values["sha256"]
    (folder / f"{card.name}.json").write_text(json.dumps(values))
    monkeypatch.setenv(WEIGHTS_DIR_VARIABLE, str(folder))
    assert main(["predict", card.name, str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1
        and "resnet20-digits.json: not a complete model card (no sha256)" in err
    )
