"""Trained weights shipped by name: scripts/ship_weights.py end to end on a tiny digits run,
then the shipped weights used by name from Python and from every command that takes weights.

The tests ship into a temporary checkout and point DEEPRES_WEIGHTS_DIR at it, so the real
package data is never touched."""

import json
import shutil

import numpy as np
import pytest
import torch
import yaml
from PIL import Image
from repo_scripts import load_script
from runs import train_run

import deepres
from deepres.catalog import WEIGHTS_DIR_VARIABLE
from deepres.cli import main
from deepres.weights import CheckpointError, load_checkpoint, load_model, read_card, read_weights
from deepres.weights.checkpoint import save_checkpoint
from deepres.weights.zoo import sha256_of

ship_weights = load_script("scripts/ship_weights.py")

CARD_FIELDS = {
    "data",
    "recipe",
    "iterations",
    "test_error",
    "test_error_float32",
    "best_val_error",
    "hardware",
    "training_seconds",
    "code_commit",
    "precision",
    "storage",
    "sha256",
}


@pytest.fixture(scope="module")
def shipped(tmp_path_factory, digits_run):
    """digits_run shipped as resnet20-digits into a temporary checkout: (repo, model card)."""
    repo = tmp_path_factory.mktemp("checkout")
    code = ship_weights.main(
        [
            *(str(digits_run), "--name", "resnet20-digits", "--data", "digits"),
            *("--repo", str(repo), "--hardware", "a test machine, 2 cores"),
        ]
    )
    assert code == 0
    folder = repo / ship_weights.SHIPPED
    return repo, json.loads((folder / "resnet20-digits.json").read_text())


@pytest.fixture
def by_name(shipped, monkeypatch):
    """The shipped weights of ``shipped`` are the ones deepres knows by name."""
    repo, card = shipped
    monkeypatch.setenv(WEIGHTS_DIR_VARIABLE, str(repo / ship_weights.SHIPPED))
    return card


def test_ship_writes_weights_card_and_the_runs_records(shipped, digits_run):
    repo, card = shipped
    assert CARD_FIELDS <= set(card)
    summary = json.loads((digits_run / "summary.json").read_text())
    assert card["iterations"] == summary["iterations"] == 30
    assert card["best_val_error"] == summary["best_val_error"]
    assert card["precision"] == "float32" and card["storage"] == "float16"
    assert card["test_images"] == 359 and card["data"]["name"] == "digits"
    # float16 is shipped only because it left the test error as it was in float32
    assert card["test_error"] == card["test_error_float32"]
    meta = json.loads((digits_run / "meta.json").read_text())
    assert card["hardware"]["device_name"] == meta["device_name"]
    assert card["hardware"]["stated_when_shipped"] == "a test machine, 2 cores"
    text = (repo / ship_weights.SHIPPED / "resnet20-digits.md").read_text()
    assert text.startswith("---\nlibrary_name: deepres\n") and "\n# resnet20-digits\n" in text
    assert "stated when shipped: a test machine, 2 cores" in text
    results = repo / "docs/runs/resnet20-digits"
    assert sorted(p.name for p in results.iterdir()) == sorted(ship_weights.RUN_RECORDS)
    assert not list(repo.rglob("*.pt"))  # never an optimiser checkpoint


def test_the_card_front_matter_is_the_hugging_face_convention_read_back(shipped):
    repo, card = shipped
    matter = read_card(repo / ship_weights.SHIPPED / "resnet20-digits.md")
    assert matter["library_name"] == "deepres" and matter["license"] == "mit"
    assert matter["datasets"] == ["digits"] and "digits" in matter["tags"]
    (index,) = matter["model-index"]
    (result,) = index["results"]
    assert index["name"] == "resnet20-digits" and result["dataset"]["split"] == "test"
    values = {m["name"]: m["value"] for m in result["metrics"]}
    assert values["test error (centre view, %)"] == round(100 * card["test_error"], 2)
    assert values["test accuracy (centre view, %)"] == round(100 * (1 - card["test_error"]), 2)
    assert values["best validation error (%)"] == round(100 * card["best_val_error"], 2)


def test_rewrite_cards_changes_the_markdown_alone(shipped, tmp_path, capsys):
    repo, card = shipped
    copy = tmp_path / "checkout"
    shutil.copytree(repo / ship_weights.SHIPPED, copy / ship_weights.SHIPPED)
    md = copy / ship_weights.SHIPPED / "resnet20-digits.md"
    before = {p.name: p.read_bytes() for p in md.parent.iterdir() if p.suffix != ".md"}
    md.write_text("# an old card without front matter\n")
    with pytest.raises(CheckpointError, match="resnet20-digits.md: no front matter"):
        read_card(md)
    assert ship_weights.main(["--rewrite-cards", "--repo", str(copy)]) == 0
    assert md.read_text() == (repo / ship_weights.SHIPPED / "resnet20-digits.md").read_text()
    assert {p.name: p.read_bytes() for p in md.parent.iterdir() if p.suffix != ".md"} == before
    assert sha256_of(md.with_suffix(".safetensors")) == card["sha256"]


def test_the_card_says_what_changed_when_the_run_was_resumed(shipped):
    _, card = shipped
    assert card["changed_when_resumed"] == []  # digits_run was never resumed
    assert "changed when resumed" not in ship_weights.card_text(card)
    resumed = {**card, "changed_when_resumed": ["2 CPU threads from iteration 45,400"]}
    row = "| changed when resumed | 2 CPU threads from iteration 45,400 |"
    assert row in ship_weights.card_text(resumed).splitlines()


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
    assert record["modes"]["center"]["top1_error"] == by_name["test_error"]
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


def test_damaged_weights_are_refused_by_their_sha256(shipped, tmp_path, monkeypatch, capsys):
    folder = shutil.copytree(shipped[0] / ship_weights.SHIPPED, tmp_path / "shipped")
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
    assert rows["resnet20"].endswith(f"digits {100 * by_name['test_error']:.2f}% test error")
    assert rows["resnet20"].count("test error") == 1


def test_unfinished_run_is_refused(digits_run, tmp_path, capsys):
    run = shutil.copytree(digits_run, tmp_path / "run")
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "status": "stopped by SIGTERM"}))
    code = ship_weights.main(
        [
            str(run),
            "--name",
            "resnet20-digits",
            "--data",
            "digits",
            "--repo",
            str(tmp_path / "repo"),
        ]
    )
    assert code == 2 and "has not finished" in capsys.readouterr().err
    assert not (tmp_path / "repo").exists()


def test_other_data_than_the_runs_is_refused(digits_run, color_folder, tmp_path, capsys):
    code = ship_weights.main(
        [
            str(digits_run),
            "--name",
            "resnet20-digits",
            "--data",
            str(color_folder),
            "--repo",
            str(tmp_path / "repo"),
        ]
    )
    assert code == 2
    assert "its test split has 16 images, the run was tested on 359" in capsys.readouterr().err


def test_float16_is_refused_when_it_changes_the_test_error(digits_run, tmp_path, capsys):
    """Classifier weights too large for float16 (65,504 at most) become inf there; in
    float32 the scaled classifier predicts as before."""
    run = shutil.copytree(digits_run, tmp_path / "run")
    checkpoint = load_checkpoint(run / "checkpoints" / "last.pt")
    checkpoint["model"]["fc.weight"] *= 1e6
    save_checkpoint(checkpoint, run / "checkpoints" / "last.pt")
    args = [
        str(run),
        "--name",
        "resnet20-digits",
        "--data",
        "digits",
        "--repo",
        str(tmp_path / "repo"),
    ]
    assert ship_weights.main(args) == 2
    assert "ship them with --dtype float32" in capsys.readouterr().err
    assert ship_weights.main([*args, "--dtype", "float32"]) == 0
    card = json.loads(
        (tmp_path / "repo" / ship_weights.SHIPPED / "resnet20-digits.json").read_text()
    )
    assert card["storage"] == "float32" and card["test_error"] == card["test_error_float32"]


def test_serve_describes_shipped_weights_with_their_card(by_name, digits_run):
    from deepres.engine import open_engine
    from deepres.serve.service import Service
    from deepres.weights import load_model

    for weights, card in (("resnet20-digits", by_name), (digits_run, None)):
        trained = load_model(weights)
        prep = trained.image_preprocessing()
        engine = open_engine(trained.model, "scores", "torch", image_shape=(1, 8, 8))
        assert Service(trained, prep, engine).describe()["model_card"] == card


def test_weights_trained_on_a_folder_say_how_its_images_are_stored(
    color_run, color_folder, tmp_path
):
    repo = tmp_path / "repo"
    args = [str(color_run), "--name", "resnet20-colors", "--data", str(color_folder)]
    assert ship_weights.main([*args, "--dtype", "float32", "--repo", str(repo)]) == 0
    card = json.loads((repo / ship_weights.SHIPPED / "resnet20-colors.json").read_text())
    assert "no JPEG files among the training images" in card["data"]["note"]
    text = (repo / ship_weights.SHIPPED / "resnet20-colors.md").read_text()
    assert card["data"]["note"] in text


def test_a_named_data_set_replaces_the_trainers_folder_in_the_card(
    color_run, color_folder, tmp_path
):
    repo = tmp_path / "repo"
    args = [str(color_run), "--name", "resnet20-colors", "--data", str(color_folder)]
    args += ["--data-set", "cifar10-png", "--dtype", "float32", "--repo", str(repo)]
    assert ship_weights.main(args) == 0
    json_text = (repo / ship_weights.SHIPPED / "resnet20-colors.json").read_text()
    card, text = json.loads(json_text), (repo / ship_weights.SHIPPED / "resnet20-colors.md")
    assert str(color_folder) not in json_text and str(color_folder) not in text.read_text()
    assert card["data"]["set"] == card["data"]["source"] == card["recipe"]["data"]
    assert card["data"]["set"] == "cifar10-png"
    assert "lossless PNG" in card["data"]["provenance"] in text.read_text()


def test_a_second_recipe_ships_under_a_name_of_its_own(digits_run, tmp_path, monkeypatch, capsys):
    """MODEL-DATA-VARIANT (resnet20-cifar10-fast beside resnet20-cifar10): the card keeps the
    data set's name, and create_model and `deepres models` take the whole tag."""
    repo = tmp_path / "repo"
    args = [str(digits_run), "--name", "resnet20-digits-fast", "--data", "digits"]
    assert ship_weights.main([*args, "--repo", str(repo)]) == 0
    card = json.loads((repo / ship_weights.SHIPPED / "resnet20-digits-fast.json").read_text())
    assert card["data"]["name"] == "digits" and card["weights"] == "digits-fast"
    monkeypatch.setenv(WEIGHTS_DIR_VARIABLE, str(repo / ship_weights.SHIPPED))
    model = deepres.create_model("resnet20", weights="digits-fast")
    assert model.conv1.weight.shape[1] == 1  # the digits are grey
    capsys.readouterr()
    assert main(["models", "resnet20"]) == 0
    assert "digits-fast" in capsys.readouterr().out


def test_a_recipe_that_validates_with_mirror_images_ships_that_figure_too(
    color_folder, tmp_path, monkeypatch, capsys
):
    """cifar-fast validates each image with its mirror image (eval_flip): its card gives the
    test error in that view beside the centre view's, both measured from the stored weights."""
    run = train_run(
        tmp_path / "run",
        *("--data", str(color_folder), "--iterations", "20", "--set", "lr=0.02"),
        *("--set", "eval_flip=true", "--cache-dir", str(tmp_path / "cache")),
    )
    repo = tmp_path / "repo"
    args = [str(run), "--name", "resnet20-colors-fast", "--data", str(color_folder)]
    args += ["--dtype", "float32", "--repo", str(repo), "--cache-dir", str(tmp_path / "cache")]
    assert ship_weights.main(args) == 0
    folder = repo / ship_weights.SHIPPED
    card = json.loads((folder / "resnet20-colors-fast.json").read_text())
    by_hand = ship_weights.test_errors(
        folder / "resnet20-colors-fast.safetensors",
        ship_weights.open_source(str(color_folder), cache_dir=tmp_path / "cache").test,
        ["center-flip"],
    )
    assert card["test_error_center_flip"] == by_hand["center-flip"]
    assert "`--mode center-flip`" in (folder / "resnet20-colors-fast.md").read_text()
    monkeypatch.setenv(WEIGHTS_DIR_VARIABLE, str(folder))
    capsys.readouterr()
    assert main(["models", "resnet20"]) == 0
    flip = 100 * card["test_error_center_flip"]
    assert f"colors-fast {100 * card['test_error']:.2f}% test error ({flip:.2f}% with flip)" in (
        capsys.readouterr().out
    )
