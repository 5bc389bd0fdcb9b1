"""The reproduction report from run records: the table's arithmetic, the labels, the files; runs
restored from their records without checkpoints."""

import json

import pytest
import torch
from PIL import Image

from deepres.experiments.report import (
    Environment,
    Invocation,
    Published,
    RecipeChange,
    ReportContext,
    Schedule,
    render_markdown,
    table_rows,
    write_cifar10_report,
)
from deepres.experiments.results import ensure_response_std, run_record
from deepres.runs import RunDir
from deepres.runs.records import RunRecord
from deepres.runs.rundir import RESPONSES
from deepres.train import load_recipe

PAPER = {20: 8.75, 56: 6.97}


def _run(model, seed, test_error, status="completed", iterations=100, train_error=0.5):
    residual, depth = model.startswith("resnet"), int(model.lstrip("resnetplain"))
    return RunRecord(
        name=f"{model}-seed{seed}",
        model=model,
        depth=depth,
        residual=residual,
        seed=seed,
        status=status,
        iterations=iterations,
        test_error=test_error,
        best_val_error=test_error,
        best_iteration=iterations,
        params=270_000,
        train_seconds=65.0,
        images_per_s=900.0,
        curves={
            "train_error": [
                [10, 0.9],
                [94, 0.1],
                [95, train_error + 0.01],
                [100, train_error - 0.01],
            ],
            "val_error": [[100, 0.45]],
            "test_error": [[50, 0.6], [100, test_error]],
        },
        response_std=[{"layer": f"l{i}", "std": 1.0 / (i + 1)} for i in range(depth - 1)],
    )


def _context(iterations=100):
    return ReportContext(
        schedule=Schedule(
            iterations=iterations,
            milestones=[50, 75],
            paper_iterations=64000,
            paper_milestones=[32000, 48000],
            shortened=iterations < 64000,
        ),
        recipe_changes=[RecipeChange(key="iterations", paper=64000, used=iterations)],
        data={
            "source": "cifar-jpegs",
            "sizes": {"train": 45000, "val": 5000, "test": 10000},
            "note": "JPEG note.",
        },
        environment=Environment(
            git_commits=["abc123"],
            report_git_commit="abc123",
            deepres_version="0.1.0",
            torch_version="2.x",
            python_version="3.x",
            devices=["cpu (test, 2 CPU threads)"],
            host="test host",
        ),
        invocations=[
            Invocation(
                command=["deepres", "reproduce", "cifar10"],
                started="today",
                seconds=130.0,
                status="completed",
            )
        ],
        paper_test_error=PAPER,
    )


RUNS = [
    _run("resnet20", 0, 0.10),
    _run("resnet20", 1, 0.12),
    _run("resnet20", 2, 0.11),
    _run("resnet56", 0, 0.09),
    _run("plain20", 0, 0.13),
    _run("plain56", 0, 0.16, train_error=0.6),
    _run("resnet56", 1, None, status="diverged"),
]


def test_table_rows_mean_and_sample_std_over_completed_seeds():
    rows = {row["model"]: row for row in table_rows(RUNS, PAPER)}
    assert [row["model"] for row in table_rows(RUNS, PAPER)] == [
        "resnet20",
        "resnet56",
        "plain20",
        "plain56",
    ]
    assert rows["resnet20"]["test_errors"] == pytest.approx([10.0, 12.0, 11.0])
    assert rows["resnet20"]["mean"] == pytest.approx(11.0)
    assert rows["resnet20"]["std"] == pytest.approx(1.0)  # sample std of 10, 12, 11
    assert rows["resnet20"]["paper"] == 8.75 and rows["resnet56"]["paper"] == 6.97
    assert rows["resnet56"]["seeds"] == [0] and rows["resnet56"]["std"] is None
    assert rows["resnet56"]["not_completed"] == ["resnet56-seed1 (diverged)"]
    assert rows["plain20"]["paper"] is None


def test_markdown_labels_a_shortened_schedule_and_states_the_trends():
    text = render_markdown(_context(), table_rows(RUNS, PAPER), RUNS, figure7=True)
    assert "Shortened schedule: not the paper's runs" in text and "64,000" in text
    assert "| ResNet-20 | 20 | 0.27M | 3 | 11.00 ± 1.00 | 8.75 | +2.25 |" in text
    assert "| plain-56 | 56 | 0.27M | 1 | 16.00 | - | - |" in text
    assert (
        "Plain nets, test error by depth (20: 13.00%, 56: 16.00%): rises with every step "
        "in depth: yes." in text
    )
    assert "Residual nets, test error by depth (20: 11.00%, 56: 9.00%): falls" in text
    assert (  # the mean of the points in the last 5% of the iterations: 95 and 100
        "Plain nets, training error at the end by depth (20: 50.00%, 56: 60.00%): rises with "
        "every step in depth: yes." in text
    )
    assert "resnet56-seed1 (diverged)" in text and "JPEG note." in text
    assert "10,000 CIFAR-10 test images" in text and "abc123" in text
    full = render_markdown(_context(64000), table_rows(RUNS, PAPER), RUNS, figure7=False)
    assert "Shortened" not in full and "the paper's, 64,000 iterations" in full
    assert "![Figure 7]" not in full and "No layer responses" in full


def test_table6_gives_a_public_reproductions_figures_beside_the_papers_where_given():
    context = _context(64000)
    context.reproduction = Published(errors={20: 8.27}, source="their README.")
    rows = table_rows(RUNS, PAPER, context.reproduction.errors)
    assert [row["reproduction"] for row in rows] == [8.27, None, None, None]
    text = render_markdown(context, rows, RUNS, figure7=False)
    assert "| paper (%) | measured - paper | public reproduction (%) |" in text
    assert "| ResNet-20 | 20 | 0.27M | 3 | 11.00 ± 1.00 | 8.75 | +2.25 | 8.27 |" in text
    assert "| ResNet-56 | 56 | 0.27M | 1 | 9.00 | 6.97 | +2.03 | - |" in text
    assert "Public reproduction: their README." in text
    plain = render_markdown(_context(64000), table_rows(RUNS, PAPER), RUNS, figure7=False)
    assert "public reproduction" not in plain.lower()


def test_the_report_writes_every_file(tmp_path):
    results = write_cifar10_report(tmp_path, RUNS, _context())
    assert json.loads((tmp_path / "results.json").read_text()) == json.loads(json.dumps(results))
    assert results["table6"][0]["mean"] == pytest.approx(11.0)
    assert [RunRecord.from_dict(r) for r in results["runs"]] == RUNS
    for name in ("figure6.png", "figure7.png"):
        with Image.open(tmp_path / name) as image:
            assert image.format == "PNG" and image.width > 500
    assert "![Figure 6](figure6.png)" in (tmp_path / "report.md").read_text()


# A run restored on a new machine from its committed records (meta.json, metrics.jsonl,
# recipe.yaml, summary.json and, if measured, response_std.json; no checkpoints) keeps the layer
# responses it has; without them, Figure 7 leaves it out and the report says so.
LAYERS = [{"layer": f"layer{i}", "std": 1.0 / (i + 1)} for i in range(19)]


def _restored(path, model, amp="auto", processes=1):
    run = RunDir(path)
    path.mkdir(parents=True)
    recipe = load_recipe("cifar-paper").replace(model=model, iterations=4, amp=amp)
    run.write_recipe(recipe.to_dict())
    meta = {"git_commit": "abc123", "torch_version": "2.x", "device": "cpu"}
    run.write_json(
        "meta.json", {**meta, "device_name": "cpu", "cpu_threads": 1, "world_size": processes}
    )
    run.log_metrics(
        {"iteration": 4, "train_loss": 1.0, "train_error": 0.5, "images": 512, "seconds": 2.0}
    )
    run.log_metrics({"iteration": 4, "test_error": 0.4, "test_loss": 1.1})
    summary = {"status": "completed", "iterations": 4, "params": 270_000, "test_error": 0.4}
    run.write_json("summary.json", summary)
    return run


def test_restored_runs_keep_their_responses_or_are_left_out_of_figure7(tmp_path):
    measured = _restored(tmp_path / "runs" / "resnet20-seed0", "resnet20")
    measured.write_json(
        RESPONSES, {"iteration": 4, "split": "test", "images": 10000, "layers": LAYERS}
    )
    kept = (measured.path / RESPONSES).read_text()
    unmeasured = _restored(tmp_path / "runs" / "plain20-seed0", "plain20")
    for run in (measured, unmeasured):
        ensure_response_std(run.path, torch.device("cpu"), cache_dir=None)
    assert (measured.path / RESPONSES).read_text() == kept
    assert not (unmeasured.path / RESPONSES).exists()

    runs = [run_record(measured.path), run_record(unmeasured.path)]
    assert runs[0].response_std == LAYERS and runs[1].response_std is None
    results = write_cifar10_report(tmp_path, runs, _context())
    assert json.loads((tmp_path / "results.json").read_text())["runs"][0]["response_std"] == LAYERS
    report = (tmp_path / "report.md").read_text()
    assert "![Figure 7](figure7.png)" in report and "| ResNet-20 | 0 | 19 |" in report
    assert (
        "Not in Figure 7, for want of their layer responses (response_std.json, measured "
        "from the run's checkpoints/last.pt): plain20-seed0." in report
    )
    assert results["table6"][1]["model"] == "plain20"  # in the table all the same

    alone = write_cifar10_report(tmp_path / "alone", runs[1:], _context())
    report = (tmp_path / "alone" / "report.md").read_text()
    assert "No layer responses were computed for these runs (none of the completed runs" in report
    assert (
        "checkpoints/last.pt): plain20-seed0." in report
        and alone["runs"][0]["status"] == "completed"
    )


def test_the_runs_table_says_what_each_run_computed_in(tmp_path):
    """Runs of one experiment may differ: the queue's plain20 kept float32 from a machine
    without native bf16 while the others trained in bf16."""
    bf16 = _restored(tmp_path / "runs" / "resnet20-seed0", "resnet20", "bf16", processes=2)
    float32 = _restored(tmp_path / "runs" / "plain20-seed0", "plain20")
    runs = [run_record(bf16.path), run_record(float32.path)]
    assert [run.precision for run in runs] == ["bf16 autocast", "float32"]
    write_cifar10_report(tmp_path, runs, _context())
    report = (tmp_path / "report.md").read_text()
    rows = [line for line in report.splitlines() if "-seed0 |" in line]
    assert rows[0].startswith("| plain20-seed0 |") and rows[0].endswith("| float32, 1 process |")
    assert rows[1].endswith("| bf16 autocast, 2 processes |")
    assert "did not all compute in the same precision: see the runs table." in report
    write_cifar10_report(tmp_path / "one", runs[:1], _context())
    assert "same precision" not in (tmp_path / "one" / "report.md").read_text()


def test_the_report_names_the_writers_home_folder_as_a_tilde(monkeypatch, tmp_path):
    """The report is published; the folders of the machine that wrote it are its own."""
    home = tmp_path / "someone"
    monkeypatch.setattr("pathlib.Path.home", lambda: home)
    context = _context(64000)
    context.invocations[0].command += ["--data", f"{home}/cifar10-png"]
    context.data["source"] = f"{home}/cifar10-png"
    context.data["note"] = f"Images from the folder {home}/cifar10-png."
    text = render_markdown(context, table_rows(RUNS, PAPER), RUNS, figure7=False)
    assert str(home) not in text
    assert "`deepres reproduce cifar10 --data ~/cifar10-png`" in text
    assert "- Data: ~/cifar10-png, 45,000 train" in text
    assert "Images from the folder ~/cifar10-png." in text
