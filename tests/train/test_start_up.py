"""The start of a run: what it says (the banner), what a failed start leaves behind (nothing
that stops the same command from running again), a preset's batch on a small folder, the
progress output in a file, and the curves.png every run draws."""

import io
import sys
import time

import pytest
import yaml
from PIL import Image
from runs import make_color_folder, settings

from deepres.cli import main
from deepres.runs import RunDir
from deepres.runs.plots import plot_run_curves
from deepres.train import RunRequest, plan_run, train
from deepres.train.progress import Progress

LENGTHS = {"log_every": 2, "eval_every": 4, "checkpoint_every": 4, "milestones": "[6]"}
FAST = ["--quiet", *settings(**LENGTHS)]


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory):
    """12 training images (3 in each of 4 classes) and 8 test images: fewer than any batch."""
    return make_color_folder(
        tmp_path_factory.mktemp("small") / "data", per_class=3, test_per_class=2, size=8
    )


def _train_small(folder, out, *, iterations: int, batch_size: int = 4) -> int:
    """`deepres train` on ``folder`` for a few iterations; its exit code."""
    return main(
        [
            *("train", *FAST, "--data", str(folder), "--set", f"batch_size={batch_size}"),
            *("--iterations", str(iterations), "--out", str(out)),
        ]
    )


def test_a_batch_larger_than_the_data_fails_cleanly_and_the_retry_runs(
    tmp_path, capsys, small_folder
):
    out = tmp_path / "run"
    code = _train_small(small_folder, out, iterations=2, batch_size=64)
    err = capsys.readouterr().err
    assert code == 2 and "batch_size 64 is more than the 12 training images" in err
    assert "Traceback" not in err and not out.exists()
    assert _train_small(small_folder, out, iterations=2) == 0
    assert "already holds files" not in capsys.readouterr().err


def test_bad_data_leaves_no_folder_and_a_folder_given_empty_stays(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *FAST, "--data", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert not out.exists()
    out.mkdir()  # the user's own (empty) folder: the failed run takes back only its own part
    assert main(["train", *FAST, "--data", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert out.is_dir() and not any(out.iterdir())
    capsys.readouterr()


def test_a_misspelt_model_creates_no_run_directory(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", *FAST, "--model", "resnet2O"]) == 2
    assert "unknown model 'resnet2O'" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_folders_without_files_from_a_killed_start_are_no_run_to_keep(tmp_path):
    run = RunDir(tmp_path / "run")
    (run.path / "checkpoints").mkdir(parents=True)  # what a start killed early leaves
    (run.path / ".lock").write_text("12345\n")
    assert run.create() is False
    (run.path / "checkpoints" / "last.pt").write_bytes(b"x")
    with pytest.raises(ValueError, match="already holds files"):
        RunDir(run.path).create()
    with pytest.raises(ValueError, match="is a file, not a folder"):
        RunDir(run.path / "checkpoints" / "last.pt").create()


def test_a_presets_batch_shrinks_to_a_small_training_set_and_says_so(
    tmp_path, capsys, small_folder
):
    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--quiet",
                "--data",
                str(small_folder),
                "--iterations",
                "2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "batch_size 64 is more than the 12 training images" in err
    assert "batch of 12, the whole training set" in err
    assert yaml.safe_load((out / "recipe.yaml").read_text())["batch_size"] == 12


def test_the_banner_says_what_runs_where_and_a_resume_from_where(tmp_path, capsys, small_folder):
    out = tmp_path / "run"
    args = ["train", *FAST, "--data", str(small_folder), "--set", "batch_size=4", "--out", str(out)]
    assert main([*args, "--iterations", "4"]) == 0
    err = capsys.readouterr().err
    for words in (
        "resnet20 (",
        " parameters) on ",
        "12 training, 8 test images, 4 classes",
        "device cpu, ",
        " thread",
        ", float32, channels_last",
        "recipe quick: 4 iterations of batch 4, lr 0.1 (x0.1 at 6), evaluation every 4",
        f"run directory {out}",
    ):
        assert words in err, words
    assert main(["train", "--resume", str(out), "--iterations", "8", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert f"resuming {out} at iteration 4 of 8" in err and "recipe quick:" in err


def test_progress_in_a_file_is_plain_lines_and_a_bar_only_on_a_terminal(tmp_path, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for stream, bar in ((io.StringIO(), False), (Terminal(), True)):
        monkeypatch.setattr(sys, "stderr", stream)
        progress = Progress(4, 0, quiet=False, log_dir=tmp_path / f"tb{bar}")
        for i in range(1, 5):
            progress.step()
            progress.log({"iteration": i, "train_loss": 1.0, "lr": 0.1})
        progress.close()
        text = stream.getvalue()
        assert ("\r" in text) == bar
        if not bar:
            assert text.splitlines()[-1] == "iteration 4  loss 1.000  lr 0.1"


def test_every_run_draws_its_curves_at_each_evaluation(tmp_path, capsys, small_folder):
    drawn = []

    def counted(records, path, title):
        drawn.append(max(r["iteration"] for r in records))
        plot_run_curves(records, path, title)

    out = tmp_path / "run"
    lengths = [f"{field}={value}" for field, value in LENGTHS.items()]
    request = RunRequest(
        data=str(small_folder), batch_size=4, iterations=8, overrides=lengths, out=out
    )
    plan = plan_run(request, quiet=True)
    assert train(plan.recipe, plan.options, draw_curves=counted).iterations == 8
    capsys.readouterr()
    assert drawn == [4, 8]
    with Image.open(out / "curves.png") as image:
        assert image.format == "PNG" and image.size[0] > 600
    temporary = [p for p in out.iterdir() if p.name.startswith(".") and p.name != ".lock"]
    assert not temporary


def test_drawing_the_curves_of_a_long_run_takes_well_under_a_second(tmp_path):
    # The metrics of a 64,000-iteration paper run: a log point every 100, evaluation every 400.
    records = []
    for i in range(100, 64_001, 100):
        records.append({"iteration": i, "train_loss": 1 / i, "train_error": 0.1, "lr": 0.1})
        if i % 400 == 0:
            records.append(
                {
                    "iteration": i,
                    "val_error": 0.1,
                    "val_loss": 0.3,
                    "test_error": 0.1,
                    "test_loss": 0.3,
                }
            )
    plot_run_curves(records, tmp_path / "curves.png", "first: loads matplotlib")
    started = time.process_time()  # CPU time: the wall clock of a shared CPU says little
    plot_run_curves(records, tmp_path / "curves.png", "second")
    assert time.process_time() - started < 1.0  # 0.16-0.26 s measured (0.64 s the first)
