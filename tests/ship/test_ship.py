"""`deepres ship` end to end on tiny runs: what it writes (weights, model card, the run's
records), what it refuses, and the card's words on the data; into a checkout of deepres as
deepres ships its own weights, and into a user's own folder.

Everything is shipped into temporary folders, so the real package data is never touched."""

import dataclasses
import json
import shutil

import pytest
import yaml
from runs import train_run
from safetensors import safe_open

import deepres
from deepres.catalog import WEIGHTS_DIR_VARIABLE
from deepres.cli import main
from deepres.data import open_source
from deepres.ship import ShipTo, ship, shipping
from deepres.weights import (
    CheckpointError,
    ModelCard,
    card_markdown,
    load_checkpoint,
    load_model,
    read_card,
)
from deepres.weights.checkpoint import save_checkpoint

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


def _ship(run, name, data, *options):
    return main(["ship", str(run), "--name", name, "--data", str(data), *map(str, options)])


def _card(to: ShipTo, name: str) -> ModelCard:
    return ModelCard.read(to.folder / f"{name}.json")


def test_ship_writes_weights_card_and_the_runs_records(shipped_digits, digits_run):
    to, card = shipped_digits
    assert CARD_FIELDS <= set(card.to_dict())
    summary = json.loads((digits_run / "summary.json").read_text())
    assert card.iterations == summary["iterations"] == 30
    assert card.best_val_error == summary["best_val_error"]
    assert card.precision == "float32" and card.storage == "float16"
    assert card.test_images == 359 and card.data.name == "digits"
    # float16 is shipped only because it left the test error as it was in float32
    assert card.test_error == card.test_error_float32
    meta = json.loads((digits_run / "meta.json").read_text())
    assert card.hardware.device_name == meta["device_name"]
    assert card.hardware.stated_when_shipped == "a test machine, 2 cores"
    text = (to.folder / "resnet20-digits.md").read_text()
    assert text.startswith("---\nlibrary_name: deepres\n") and "\n# resnet20-digits\n" in text
    assert "stated when shipped: a test machine, 2 cores" in text
    batch, train = card.recipe["batch_size"], card.data.images["train"]
    images = f"| iterations | 30 of batch {batch}: {30 * batch:,} images, "
    assert f"{images}{30 * batch / train:.1f} epochs of the {train:,} training images" in text
    assert card.results == "docs/runs/resnet20-digits"
    results = to.root / card.results
    assert sorted(p.name for p in results.iterdir()) == sorted(shipping.RUN_RECORDS)
    assert not list(to.root.rglob("*.pt"))  # never an optimiser checkpoint


def test_the_card_front_matter_is_the_hugging_face_convention_read_back(shipped_digits):
    to, card = shipped_digits
    matter = read_card(to.folder / "resnet20-digits.md")
    assert matter["library_name"] == "deepres" and matter["license"] == "mit"
    assert matter["datasets"] == ["digits"] and "digits" in matter["tags"]
    (index,) = matter["model-index"]
    (result,) = index["results"]
    assert index["name"] == "resnet20-digits" and result["dataset"]["split"] == "test"
    values = {m["name"]: m["value"] for m in result["metrics"]}
    assert values["test error (centre view, %)"] == round(100 * card.test_error, 2)
    assert values["test accuracy (centre view, %)"] == round(100 * (1 - card.test_error), 2)
    assert values["best validation error (%)"] == round(100 * card.best_val_error, 2)


def test_rewrite_cards_changes_the_markdown_alone(shipped_digits, tmp_path, capsys):
    to, card = shipped_digits
    copy = ShipTo.checkout(tmp_path / "checkout")
    shutil.copytree(to.folder, copy.folder)
    md = copy.folder / "resnet20-digits.md"
    before = {p.name: p.read_bytes() for p in md.parent.iterdir() if p.suffix != ".md"}
    md.write_text("# an old card without front matter\n")
    with pytest.raises(CheckpointError, match="resnet20-digits.md: no front matter"):
        read_card(md)
    assert main(["ship", "--rewrite-cards", "--repo", str(copy.root)]) == 0
    assert md.read_text() == (to.folder / "resnet20-digits.md").read_text()
    assert {p.name: p.read_bytes() for p in md.parent.iterdir() if p.suffix != ".md"} == before
    card.verify(md.with_suffix(".safetensors"))


def test_the_card_says_what_changed_when_the_run_was_resumed(shipped_digits):
    _, card = shipped_digits
    assert card.changed_when_resumed == []  # digits_run was never resumed
    assert "changed when resumed" not in card_markdown(card)
    resumed = dataclasses.replace(
        card, changed_when_resumed=["2 CPU threads from iteration 45,400"]
    )
    row = "| changed when resumed | 2 CPU threads from iteration 45,400 |"
    assert row in card_markdown(resumed).splitlines()


def test_a_run_without_a_validation_split_says_so_in_the_card(shipped_digits):
    _, card = shipped_digits
    row = f"| best validation error | {100 * card.best_val_error:.2f}% (iteration 10) |"
    assert row in card_markdown(card).splitlines()
    on_every_image = dataclasses.replace(card, best_val_error=None, best_val_iteration=None)
    row = "| best validation error | none: no validation split, every training image trained on |"
    assert row in card_markdown(on_every_image).splitlines()


def test_the_same_name_is_shipped_again_only_to_replace_it(shipped_digits, digits_run, capsys):
    to, _ = shipped_digits
    assert _ship(digits_run, "resnet20-digits", "digits", "--repo", to.root) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "resnet20-digits.json exists: --replace" in err


def test_unfinished_run_is_refused(digits_run, tmp_path, capsys):
    run = shutil.copytree(digits_run, tmp_path / "run")
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "status": "stopped by SIGTERM"}))
    code = _ship(run, "resnet20-digits", "digits", "--repo", tmp_path / "repo")
    err = capsys.readouterr().err
    assert code == 2 and "has not finished (stopped by SIGTERM at iteration 30 of 30)" in err
    assert not (tmp_path / "repo").exists()


def test_other_data_than_the_runs_is_refused(digits_run, color_folder, tmp_path, capsys):
    code = _ship(digits_run, "resnet20-digits", color_folder, "--repo", tmp_path / "repo")
    assert code == 2
    assert "its test split has 16 images, the run was tested on 359" in capsys.readouterr().err


def test_float16_is_refused_when_it_changes_the_test_error(digits_run, tmp_path, capsys):
    """Classifier weights too large for float16 (65,504 at most) become inf there; in
    float32 the scaled classifier predicts as before."""
    run = shutil.copytree(digits_run, tmp_path / "run")
    checkpoint = load_checkpoint(run / "checkpoints" / "last.pt")
    checkpoint["model"]["fc.weight"] *= 1e6
    save_checkpoint(checkpoint, run / "checkpoints" / "last.pt")
    args = [run, "resnet20-digits", "digits", "--repo", tmp_path / "repo"]
    assert _ship(*args, "--dtype", "float16") == 2
    assert "ship them with --dtype float32" in capsys.readouterr().err
    assert _ship(*args, "--dtype", "float32") == 0
    card = _card(ShipTo.checkout(tmp_path / "repo"), "resnet20-digits")
    assert card.storage == "float32" and card.test_error == card.test_error_float32


def test_auto_stores_float16_where_it_changes_no_error_else_float32(digits_run, tmp_path, capsys):
    """The default: the same run in float16, and, once float16 would change its errors
    (classifier weights beyond float16's range), in float32 with a word on why."""
    repo = tmp_path / "repo"
    assert _ship(digits_run, "resnet20-digits", "digits", "--repo", repo) == 0
    assert _card(ShipTo.checkout(repo), "resnet20-digits").storage == "float16"
    assert "float32" not in capsys.readouterr().err
    run = shutil.copytree(digits_run, tmp_path / "run")
    checkpoint = load_checkpoint(run / "checkpoints" / "last.pt")
    checkpoint["model"]["fc.weight"] *= 1e6
    save_checkpoint(checkpoint, run / "checkpoints" / "last.pt")
    assert _ship(run, "resnet20-digits", "digits", "--repo", repo, "--replace") == 0
    card = _card(ShipTo.checkout(repo), "resnet20-digits")
    assert card.storage == "float32" and card.test_error == card.test_error_float32
    assert "stored in float32: in float16 a test error would not be" in capsys.readouterr().err


def test_weights_trained_on_a_folder_say_how_its_images_are_stored(
    color_run, color_folder, tmp_path
):
    to = ShipTo.checkout(tmp_path / "repo")
    args = [color_run, "resnet20-colors", color_folder, "--dtype", "float32"]
    assert _ship(*args, "--repo", to.root) == 0
    card = _card(to, "resnet20-colors")
    assert "no JPEG files among the training images" in card.data.note
    assert card.data.note in (to.folder / "resnet20-colors.md").read_text()


def test_a_named_data_set_replaces_the_trainers_folder_in_the_card_and_the_weights(
    color_run, color_folder, tmp_path
):
    to = ShipTo.checkout(tmp_path / "repo")
    args = [color_run, "resnet20-colors", color_folder, "--data-set", "cifar10-png"]
    assert _ship(*args, "--dtype", "float32", "--repo", to.root) == 0
    json_text = (to.folder / "resnet20-colors.json").read_text()
    card, text = ModelCard.from_dict(json.loads(json_text)), (to.folder / "resnet20-colors.md")
    assert str(color_folder) not in json_text and str(color_folder) not in text.read_text()
    with safe_open(str(to.folder / "resnet20-colors.safetensors"), "pt") as weights:
        metadata = weights.metadata()["deepres"]
    assert str(color_folder) not in metadata
    assert json.loads(metadata)["recipe"]["data"] == "cifar10-png"
    assert card.data.set == card.data.source == card.recipe["data"]
    assert card.data.set == "cifar10-png"
    assert "lossless PNG" in card.data.provenance in text.read_text()


def test_a_second_recipe_ships_under_a_name_of_its_own(digits_run, tmp_path, monkeypatch, capsys):
    """MODEL-DATA-VARIANT (resnet20-cifar10-fast beside resnet20-cifar10): the card keeps the
    data set's name, and create_model and `deepres models` take the whole tag."""
    to = ShipTo.checkout(tmp_path / "repo")
    assert _ship(digits_run, "resnet20-digits-fast", "digits", "--repo", to.root) == 0
    card = _card(to, "resnet20-digits-fast")
    assert card.data.name == "digits" and card.weights == "digits-fast"
    monkeypatch.setenv(WEIGHTS_DIR_VARIABLE, str(to.folder))
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
    to = ShipTo.checkout(tmp_path / "repo")
    args = [run, "resnet20-colors-fast", color_folder, "--dtype", "float32"]
    assert _ship(*args, "--repo", to.root, "--cache-dir", tmp_path / "cache") == 0
    card = _card(to, "resnet20-colors-fast")
    by_hand = shipping.measured_errors(
        to.folder / "resnet20-colors-fast.safetensors",
        open_source(str(color_folder), cache_dir=tmp_path / "cache").test,
        ["center-flip"],
    )
    assert card.test_error_center_flip == by_hand["center-flip"]
    assert "`--mode center-flip`" in (to.folder / "resnet20-colors-fast.md").read_text()
    monkeypatch.setenv(WEIGHTS_DIR_VARIABLE, str(to.folder))
    capsys.readouterr()
    assert main(["models", "resnet20"]) == 0
    flip = 100 * card.test_error_center_flip
    assert f"colors-fast {100 * card.test_error:.2f}% test error ({flip:.2f}% with flip)" in (
        capsys.readouterr().out
    )


def test_a_user_ships_into_a_folder_of_their_own_and_uses_it_by_name(
    digits_run, tmp_path, monkeypatch
):
    """The library call, as the command makes it: the card and weights in the folder, the
    run's records beside them (with response_std.json, where the reproduction wrote one)."""
    run = shutil.copytree(digits_run, tmp_path / "run")
    (run / "response_std.json").write_text('{"iteration": 30, "layers": []}\n')
    folder = tmp_path / "my weights"
    card = ship(run, "resnet20-digits", "digits", ShipTo(folder), dtype="float32")
    assert sorted(p.name for p in folder.iterdir()) == [
        "resnet20-digits.json",
        "resnet20-digits.md",
        "resnet20-digits.safetensors",
        "runs",
    ]
    assert _card(ShipTo(folder), "resnet20-digits") == card
    assert card.results == "runs/resnet20-digits" and card.storage == "float32"
    records = folder / card.results
    assert (records / "response_std.json").read_text() == (run / "response_std.json").read_text()
    assert yaml.safe_load((records / "recipe.yaml").read_text())["model"] == "resnet20"
    monkeypatch.setenv(WEIGHTS_DIR_VARIABLE, str(folder))
    trained = load_model("resnet20-digits")
    final = load_checkpoint(run / "checkpoints" / "last.pt")["model"]
    assert all(v.equal(final[k]) for k, v in trained.model.state_dict().items())


def test_shipping_needs_a_run_a_name_and_data(tmp_path, capsys):
    assert main(["ship", "--name", "resnet20-digits", "--out", str(tmp_path)]) == 2
    assert "RUN_DIR, --name and --data are needed" in capsys.readouterr().err
    assert main(["ship", str(tmp_path), "--name", "x", "--data", "digits", "--out", "o"]) == 2
    assert f"{tmp_path}: not a finished deepres run (no " in capsys.readouterr().err


def test_the_records_list_the_test_images_the_network_gets_wrong(color_run, color_folder, tmp_path):
    """test-errors.txt, beside the run's records: the images that the card's test error
    counts, by name, for a check that shares no code with deepres (weights/
    test_shipped_independently.py). Two test images put under another class must be there."""
    data = tmp_path / "data"
    shutil.copytree(color_folder, data)
    classes = sorted(p.name for p in (data / "test").iterdir())
    moved = sorted((data / "test" / classes[0]).iterdir())[:2]
    for image in moved:
        image.rename(data / "test" / classes[1] / f"moved-{image.name}")
    to = ShipTo.checkout(tmp_path / "repo")
    args = [color_run, "resnet20-colors", data, "--dtype", "float32", "--repo", to.root]
    assert _ship(*args, "--cache-dir", tmp_path / "cache") == 0
    card = _card(to, "resnet20-colors")
    wrong = (to.root / card.results / shipping.TEST_ERRORS).read_text().splitlines()
    assert len(wrong) == round(card.test_error * card.test_images) >= 2
    assert {f"{classes[1]}/moved-{image.name}" for image in moved} <= set(wrong)
    assert wrong == sorted(wrong)


def test_time_a_run_stood_paused_is_left_out_of_the_cards_training_time(
    shipped_digits, digits_run, tmp_path
):
    _, steady = shipped_digits
    assert steady.paused_seconds == 0 and "stood paused" not in card_markdown(steady)
    run = shutil.copytree(digits_run, tmp_path / "run")
    # A pause as deepres before 88a9ff8 recorded it: one log window took 1,000 times as long.
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    window = next(r for r in records if "train_loss" in r)
    added = window["seconds"] * 999
    window["seconds"] *= 1000
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    to = ShipTo.checkout(tmp_path / "checkout")
    assert _ship(run, "resnet20-digits", "digits", "--repo", to.root) == 0
    card = _card(to, "resnet20-digits")
    recorded = sum(r["seconds"] for r in records if "train_loss" in r)
    assert card.training_seconds + card.paused_seconds == pytest.approx(recorded)
    assert card.paused_seconds == pytest.approx(added, rel=0.01)
    assert f"stood paused for about {card.paused_seconds:,.0f} s, left out" in card_markdown(card)


def test_rewrite_cards_gives_an_older_card_its_paused_time_from_the_runs_records(
    shipped_digits, tmp_path
):
    to, card = shipped_digits
    copy = ShipTo.checkout(tmp_path / "checkout")
    shutil.copytree(to.root, copy.root, dirs_exist_ok=True)
    path = copy.folder / "resnet20-digits.json"
    # A card from before the field, its training time as recorded, a pause in its records.
    values = json.loads(path.read_text())
    del values["paused_seconds"]
    values["training_seconds"] = 1000.0
    path.write_text(json.dumps(values))
    metrics = copy.root / card.results / "metrics.jsonl"
    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    window = next(r for r in records if "train_loss" in r)
    window["seconds"] *= 1000
    metrics.write_text("".join(json.dumps(r) + "\n" for r in records))

    assert main(["ship", "--rewrite-cards", "--repo", str(copy.root)]) == 0
    rewritten = ModelCard.read(path)
    recorded = sum(r["seconds"] for r in records if "train_loss" in r)
    assert rewritten.paused_seconds > 0.9 * window["seconds"]
    assert rewritten.training_seconds + rewritten.paused_seconds == pytest.approx(recorded)
    assert dataclasses.replace(rewritten, training_seconds=0, paused_seconds=0) == (
        dataclasses.replace(card, training_seconds=0, paused_seconds=0)
    )
    assert "stood paused" in (copy.folder / "resnet20-digits.md").read_text()
