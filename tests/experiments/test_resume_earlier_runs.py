"""`deepres reproduce cifar10` continues a run directory written by an earlier deepres.

The run directory here is written by hand, every file name and key spelled out as deepres wrote
them before the run layout moved to ``deepres.runs`` (commit cbf60f1): a run of ResNet-20 that
a SIGINT stopped after 2 of its 4 iterations, on a generated folder of 32-pixel images. The torch states in it (network, optimiser,
schedule, data position) come from the library, whose formats are not at stake here.
"""

import json

import torch
import yaml
from runs import make_color_folder

from deepres.cli import main
from deepres.data import BatchLoader, Preprocessing, open_source
from deepres.experiments import Cifar10Settings
from deepres.experiments.cifar10 import shared_recipe
from deepres.train.build import build_model, make_optimizer, make_schedule
from deepres.weights import load_checkpoint
from deepres.weights.checkpoint import save_checkpoint

ARGS = [
    "reproduce",
    "cifar10",
    "--val-size",
    "8",
    "--iterations",
    "4",
    "--eval-every",
    "2",
    "--set",
    "batch_size=16",
    "--depths",
    "20",
    "--only",
    "table6",
]


def _write_stopped_run(run, data, cache):
    settings = Cifar10Settings(
        out=None,
        data=str(data),
        val_size=8,
        iterations=4,
        eval_every=2,
        overrides={"batch_size": 16},
    )
    recipe = shared_recipe(settings).replace(model="resnet20", seed=0)
    splits = open_source(recipe.data, cache_dir=cache, val_size=8, seed=0)
    loader = BatchLoader(splits.train, 16, train=True, seed=0)
    recipe = recipe.resolved(len(loader))
    model = build_model(recipe, len(splits.classes), 3)
    (run / "checkpoints").mkdir(parents=True)
    (run / "recipe.yaml").write_text(yaml.safe_dump(recipe.to_dict(), sort_keys=False))
    (run / "classes.json").write_text(json.dumps(splits.classes))
    (run / "meta.json").write_text(
        json.dumps(
            {
                "deepres_version": "0.1.0",
                "git_commit": "cbf60f1",
                "torch_version": torch.__version__,
                "python_version": "3.12",
                "device": "cpu",
                "device_name": "x86_64",
                "cpu_threads": 1,
                "command": ["deepres", "reproduce"],
                "world_size": 1,
                "data": splits.summary(),
            }
        )
    )
    (run / "bad_files.txt").write_text("")
    records = [
        {
            "iteration": 1,
            "epoch": 0.5,
            "lr": 0.1,
            "train_loss": 1.4,
            "train_error": 0.75,
            "images_per_s": 80.0,
            "images": 16,
            "seconds": 0.2,
        },
        {
            "iteration": 2,
            "epoch": 1.0,
            "lr": 0.1,
            "train_loss": 1.3,
            "train_error": 0.69,
            "images_per_s": 80.0,
            "images": 16,
            "seconds": 0.2,
        },
        {
            "iteration": 2,
            "epoch": 1.0,
            "val_error": 0.75,
            "val_loss": 1.3,
            "val_images": 8,
            "test_error": 0.75,
            "test_loss": 1.3,
            "test_images": 16,
        },
    ]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    save_checkpoint(
        {
            "iteration": 2,
            "model": model.state_dict(),
            "optimizer": make_optimizer(model, recipe).state_dict(),
            "schedule": make_schedule(recipe).state_dict(),
            "data": {**loader.state_dict(), "epoch": 1, "position": 0},
            "window": {"loss_sum": 0.0, "wrong": 0, "seen": 0, "seconds": 0.0},
            "best": {"val_error": 0.75, "iteration": 2},
            "rng": {"torch": torch.get_rng_state(), "cuda": []},
            "recipe": recipe.to_dict(),
            "model_name": "resnet20",
            "classes": list(splits.classes),
            "preprocessing": Preprocessing.of_loader(loader).to_dict(),
        },
        run / "checkpoints" / "last.pt",
    )
    (run / "summary.json").write_text(
        json.dumps(
            {
                "status": "stopped by SIGINT",
                "iterations": 2,
                "planned_iterations": 4,
                "model": "resnet20",
                "data": recipe.data,
                "params": 270106,
                "test_error": 0.75,
                "val_error": 0.75,
                "best_val_error": 0.75,
                "best_iteration": 2,
                "train_seconds": 0.4,
                "images_per_s": 80.0,
                "bad_files": 0,
                "run_dir": str(run),
                "world_size": 1,
                "rank": 0,
            },
            indent=2,
        )
    )


def test_reproduce_resumes_a_run_directory_of_the_earlier_layout(tmp_path, capsys):
    out, cache = tmp_path / "out", tmp_path / "cache"
    data = make_color_folder(tmp_path / "data", size=32)
    run = out / "runs" / "resnet20-seed0"
    _write_stopped_run(run, data, cache)
    code = main([*ARGS, "--data", str(data), "--out", str(out), "--cache-dir", str(cache)])
    assert code == 0, capsys.readouterr().err
    assert f"resuming {run} at iteration 2" in capsys.readouterr().err
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["iterations"] == 4
    assert load_checkpoint(run / "checkpoints" / "last.pt")["iteration"] == 4
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in records][:3] == [1, 2, 2]  # the earlier records are kept
    assert records[1]["train_loss"] == 1.3 and max(r["iteration"] for r in records) == 4
    results = json.loads((out / "results.json").read_text())
    assert [r["name"] for r in results["runs"]] == ["resnet20-seed0"]
    assert results["runs"][0]["meta"]["git_commit"] == "cbf60f1"  # its meta.json, read
