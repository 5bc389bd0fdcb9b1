"""The `deepres` command line."""

import json
import subprocess
import sys

from deepres.cli import main


def test_models_table_lists_every_network(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["name", "family", "depth", "block", "shortcut", "params",
                                "mult-adds", "input", "weights"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["resnet50"] == ["resnet50", "imagenet", "50", "bottleneck", "B", "25,557,032",
                                "3.86G", "224x224", "-"]
    assert rows["resnet20"][4:8] == ["A", "269,722", "40.6M", "32x32"]
    assert rows["plain34"][4] == "none"


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
    code = ("import sys; from deepres.cli import main; assert main(['models']) == 0; "
            "assert 'torch' not in sys.modules, 'deepres models imported torch'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr


def test_console_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "deepres", "models", "resnet110"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "1,727,962" in result.stdout
