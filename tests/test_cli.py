"""The `deepres` command line."""

import argparse
import json
import subprocess
import sys

import pytest

from deepres.catalog import SHIPPED_WEIGHTS, ModelCard
from deepres.cli import main, run_command
from deepres.data import DataError
from deepres.errors import (
    CheckpointError,
    DeepresError,
    ExportError,
    ModelError,
    RecipeError,
    RunDirError,
    UsageError,
)
from deepres.export import ExportError as ExportErrorOfExport
from deepres.weights import CheckpointError as CheckpointErrorOfWeights


def test_models_table_lists_every_network(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == [
        "name",
        "family",
        "depth",
        "block",
        "shortcut",
        "params",
        "mult-adds",
        "input",
        "weights",
    ]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["resnet50"] == [
        "resnet50",
        "imagenet",
        "50",
        "bottleneck",
        "B",
        "25,557,032",
        "3.86G",
        "224x224",
        "-",
    ]
    assert rows["resnet20"][4:8] == ["A", "269,722", "40.6M", "32x32"]
    assert rows["plain34"][4] == "none"
    # Each shipped network's figure names the data set it was measured on.
    card = ModelCard.read(SHIPPED_WEIGHTS / "resnet20-cifar10.json")
    said = f"cifar10 {100 * card.test_error:.2f}% test error on {card.data.set}"
    assert card.data.set and said in " ".join(rows["resnet20"])


def test_models_pattern_and_json(capsys):
    assert main(["models", "plain*", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["name"] for r in rows][:2] == ["plain20", "plain32"]
    assert all(r["shortcut"] == "none" for r in rows)


def test_unknown_pattern_is_a_clear_error(capsys):
    assert main(["models", "vgg*"]) == 2
    err = capsys.readouterr().err
    assert "no model matches 'vgg*'" in err and "Traceback" not in err


def test_models_answers_without_importing_torch():
    """What makes `deepres models` take a fraction of a second instead of 16 s."""
    code = (
        "import sys; from deepres.cli import main; assert main(['models']) == 0; "
        "assert 'torch' not in sys.modules, 'deepres models imported torch'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_console_entry_point_runs():
    result = subprocess.run(
        [sys.executable, "-m", "deepres", "models", "resnet110"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "1,727,962" in result.stdout


def _fails_with(error):
    def run(args):
        raise error

    return run


def test_bad_input_is_one_line_and_a_bug_keeps_its_traceback(capsys):
    assert (
        run_command(
            "train",
            _fails_with(RecipeError("recipe x.yaml: lr must be positive")),
            argparse.Namespace(),
        )
        == 2
    )
    assert capsys.readouterr().err == "deepres train: error: recipe x.yaml: lr must be positive\n"
    # A ValueError from deep inside torch or numpy is not the user's doing: it is a bug.
    assert (
        run_command(
            "eval", _fails_with(ValueError("operands could not be broadcast")), argparse.Namespace()
        )
        == 1
    )
    err = capsys.readouterr().err
    assert "Traceback" in err and "ValueError: operands could not be broadcast" in err
    assert err.endswith(
        "deepres eval: this is a bug in deepres, not a problem with your input; "
        "please report it with the traceback above\n"
    )


@pytest.mark.parametrize(
    "error",
    [DataError, CheckpointError, RecipeError, ModelError, RunDirError, UsageError, ExportError],
)
def test_every_user_error_belongs_to_the_family(error):
    assert issubclass(error, DeepresError) and issubclass(error, ValueError)
    # The layers that raise them still offer them under the names they always had.
    assert (ExportErrorOfExport, CheckpointErrorOfWeights) == (ExportError, CheckpointError)


def test_bad_device_is_one_clear_line(capsys):
    assert main(["train", "--device", "gpu0", "--iterations", "1"]) == 2
    err = capsys.readouterr().err
    assert "--device gpu0: not a device" in err and "Traceback" not in err
