"""The settings of `deepres reproduce cifar10`, defined once: the parser, the command line
that the report quotes and OUT/experiment.json are all made from them."""

import json
from pathlib import Path

import pytest

from deepres.cli import build_parser, main
from deepres.cli.reproduce_cmd import settings_from
from deepres.experiments import Cifar10Settings
from deepres.experiments.cifar10 import shared_recipe


def _parsed(words):
    return settings_from(build_parser("reproduce").parse_args(words))


def test_the_command_line_of_settings_gives_them_back():
    settings = Cifar10Settings(
        only="figure6",
        depths=(20, 56),
        seeds=2,
        data="/data/cifar10-png",
        val_size=0,
        iterations=2000,
        recipe="cifar-fast",
        eval_every=250,
        overrides={"amp": "bf16", "milestones": [100, 200]},
        parallel=2,
        processes=2,
        out=Path("out"),
        device="cpu",
    )
    words = settings.command_line()
    assert words[:3] == ["deepres", "reproduce", "cifar10"]
    assert "--processes-per-run" in words and "--set" in words and "--quiet" not in words
    assert _parsed(words[1:]) == settings
    assert _parsed(["reproduce", "cifar10"]) == Cifar10Settings()


def test_the_defaults_are_spelled_out():
    assert (
        Cifar10Settings().command_line()
        == (
            "deepres reproduce cifar10 --depths 20 32 44 56 110 --seeds 1 --data cifar10 "
            "--val-size 5000 --recipe cifar-paper --parallel 1 --processes-per-run 1 "
            "--out runs/reproduce-cifar10 --device auto"
        ).split()
    )


def test_report_only_takes_what_out_recorded_and_the_rest_as_given(tmp_path):
    recorded = Cifar10Settings(depths=(20,), iterations=4, overrides={"batch_size": 64})
    (tmp_path / "experiment.json").write_text(json.dumps({"settings": recorded.recorded()}))
    words = ["reproduce", "cifar10", "--report-only", "--out", str(tmp_path), "--seeds", "3"]
    settings = _parsed(words)
    assert (settings.depths, settings.iterations, settings.overrides) == (
        (20,),
        4,
        {"batch_size": 64},
    )
    assert settings.seeds == 3 and settings.report_only and settings.out == tmp_path


def test_a_bad_setting_names_its_flag(tmp_path, capsys):
    out = str(tmp_path / "out")
    assert main(["reproduce", "cifar10", "--processes-per-run", "0", "--out", out]) == 2
    assert "--processes-per-run must be at least 1, got 0" in capsys.readouterr().err


@pytest.mark.parametrize("iterations", [None, 4000])
def test_an_experiment_recorded_before_its_settings_gives_back_its_recipe(tmp_path, iterations):
    """An OUT/experiment.json of the model-zoo queue's commit holds the recipe alone: the
    settings read back from it (--eval-every and --set included) must make that recipe, so
    that `--report-only --out OUT` needs nothing else."""
    started = Cifar10Settings(
        depths=(20,),
        data="/data/cifar10-png",
        val_size=0,
        iterations=iterations,
        eval_every=1000,
        overrides={"amp": "bf16", "label_smoothing": 0.1},
    )
    recipe = shared_recipe(started).to_dict()
    (tmp_path / "experiment.json").write_text(json.dumps({"recipe": recipe}))
    (tmp_path / "runs" / "resnet20-seed0").mkdir(parents=True)
    settings = _parsed(["reproduce", "cifar10", "--report-only", "--out", str(tmp_path)])
    assert shared_recipe(settings).to_dict() == recipe
    assert settings.overrides == {"amp": "bf16", "label_smoothing": 0.1}
    assert settings.depths == (20,)
