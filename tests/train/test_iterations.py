"""One meaning of --iterations for `train` and `reproduce`: the schedule keeps its proportions
(issue 13, item 1); `--set iterations=N` is the raw field."""

import pytest
import yaml

from deepres.cli import main
from deepres.experiments.cifar10 import Cifar10Settings, shared_recipe
from deepres.train import Recipe, RunRequest, load_recipe, plan_run


def test_a_shorter_run_moves_the_lr_drops_and_evaluations():
    quick = load_recipe("quick")  # 600 iterations, drops at 400 and 520
    short = quick.scaled_to(300)
    assert (short.iterations, short.milestones) == (300, [200, 260])
    assert (short.eval_every, short.checkpoint_every, short.log_every) == (100, 100, 3)
    longer = quick.scaled_to(1200)
    assert (longer.milestones, longer.eval_every, longer.log_every) == ([800, 1040], 400, 20)
    annealed = quick.replace(schedule="onecycle", lr_rise=120).scaled_to(300)
    assert annealed.lr_rise == 60  # the rise keeps its share of the run too


def test_fields_set_explicitly_are_not_scaled():
    short = load_recipe("quick").scaled_to(300, milestones=[50], eval_every=7)
    assert (short.milestones, short.eval_every, short.checkpoint_every) == ([50], 7, 7)
    with pytest.raises(ValueError, match="not both"):
        load_recipe("quick").scaled_to(300, iterations=20)
    with pytest.raises(ValueError, match="counts epochs"):
        Recipe(iterations="10ep", milestones=["5ep"]).scaled_to(300)


def test_train_and_reproduce_shorten_cifar_paper_alike():
    plan = plan_run(RunRequest(recipe="cifar-paper", iterations=2000, overrides=["val_size=5000"]))
    trained = plan.recipe
    reproduced = shared_recipe(Cifar10Settings(out=None, iterations=2000))
    assert trained == reproduced
    assert (trained.milestones, trained.eval_every) == ([1000, 1500], 250)  # 1/8 of 2,000
    (note,) = plan.notes
    assert (
        "--iterations 2000 scales the schedule of 64000 iterations: lr drops at 1000, 1500" in note
        and "--set iterations=2000 would stop there" in note
    )


def test_the_note_names_the_lengths_the_schedule_uses():
    fast = load_recipe("cifar-fast")
    note = fast.scaling_note(fast.scaled_to(8000))
    assert note.startswith("--iterations 8000 scales the schedule of 16000 iterations: lr rises")
    assert f"lr rises for {fast.lr_rise // 2}, evaluations" in note and "drops" not in note


def test_set_iterations_is_the_raw_field(capsys):
    plan = plan_run(RunRequest(overrides=["iterations=300"]))
    raw = plan.recipe
    assert (raw.iterations, raw.milestones, raw.eval_every) == (300, [400, 520], 200)
    assert plan.notes == ()
    assert main(["train", "--iterations", "300", "--set", "iterations=20"]) == 2
    assert "not both" in capsys.readouterr().err


def test_the_scaled_schedule_is_written_in_recipe_yaml(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--quiet", "--iterations", "6", "--out", str(out)]) == 0
    written = yaml.safe_load((out / "recipe.yaml").read_text())
    assert (written["iterations"], written["milestones"], written["eval_every"]) == (6, [4, 5], 25)
    assert "--iterations 6 scales the schedule of 600 iterations" in capsys.readouterr().err


def test_field_flags_are_their_set_fields(tmp_path, capsys):
    """Issue 29, item 11: --batch-size, --lr, --epochs and --val-size are --set's fields."""
    flags = plan_run(RunRequest(batch_size=32, lr=0.05, epochs=3, val_size=100)).recipe
    given = plan_run(
        RunRequest(overrides=["batch_size=32", "lr=0.05", "iterations=3ep", "val_size=100"])
    ).recipe
    assert flags == given and (flags.batch_size, flags.iterations) == (32, "3ep")
    assert main(["train", "--lr", "0.1", "--set", "lr=0.2"]) == 2
    assert "--lr and --set lr=... both set lr" in capsys.readouterr().err
    out = tmp_path / "run"
    code = main(["train", "--quiet", "--epochs", "1", "--batch-size", "128", "--out", str(out)])
    assert code == 0
    written = yaml.safe_load((out / "recipe.yaml").read_text())
    assert (written["iterations"], written["batch_size"]) == (11, 128)  # 1,438 images // 128
