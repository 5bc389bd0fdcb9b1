"""Ship a finished run's final weights with deepres, by name (for maintainers; issue 10).

    .venv/bin/python scripts/ship_weights.py RUN_DIR --name resnet20-cifar10 --data FOLDER

- Refuses a run that has not finished (its summary.json status must be "completed").
- Takes the final model, checkpoints/last.pt of the last iteration: the paper reports the
  final network, not the one chosen on the validation split (best.pt).
- Measures the test error (centre view, and the centre view with its mirror image for a
  recipe that validates so, such as cifar-fast) on FOLDER's test split twice, in float32 and
  as the weights are stored: float16 (half the size) unless --dtype float32. float16 is
  refused if it changes an error; the model card records the figures.
- Writes src/deepres/weights/shipped/NAME.safetensors, NAME.json (the model card, with the
  file's sha256, which deepres checks on every load) and NAME.md (the card for people).
- Copies the run's metrics.jsonl, recipe.yaml, summary.json and meta.json to docs/runs/NAME/;
  never its checkpoints (they hold the optimiser too).

--repo writes into another checkout (the tests ship into a temporary folder). Try the result
with DEEPRES_WEIGHTS_DIR=REPO/src/deepres/weights/shipped before committing it.

    .venv/bin/python scripts/ship_weights.py --rewrite-cards [--repo DIR]

writes every shipped NAME.md again from its NAME.json (after a change of the card's format);
the weights and NAME.json are left as they are.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import torch
import yaml

from deepres import catalog
from deepres.atomic import write_text_atomic
from deepres.data import Preprocessing, open_source
from deepres.evaluate import evaluate
from deepres.experiments.cifar10 import data_note
from deepres.runs.environment import changes_during_run
from deepres.weights import load_checkpoint, load_model, read_weights, save_weights
from deepres.weights.cards import card_front_matter
from deepres.weights.zoo import sha256_of

REPO = Path(__file__).resolve().parents[1]
SHIPPED = Path("src/deepres") / catalog.SHIPPED_WEIGHTS.relative_to(catalog.PACKAGE)  # in REPO
RESULTS = Path("docs/runs")
RUN_RECORDS = ("metrics.jsonl", "recipe.yaml", "summary.json", "meta.json")
DTYPES = {"float16": torch.float16, "float32": torch.float32}
# The data sets of ../shared/data that shipped networks are trained on: a card names one and
# says where it comes from, never a folder of the machine that trained the network.
DATA_SETS = {
    "cifar10-png": "the original CIFAR-10 (Krizhevsky, 2009) as lossless PNG files, pixel for "
    "pixel the images of the official Python batches: 50,000 training and 10,000 test "
    "images, 32x32 RGB, 10 classes; the data set of the paper's Table 6",
    "cifar10-jpeg": "CIFAR-10 re-encoded as JPEG quality 75 with 4:2:0 chroma subsampling: "
    "a different data set from the paper's (a ResNet-20 trained on the original images has "
    "8.27% test error on the original test images and 18.97% on these)",
}


class Refused(Exception):
    """The run cannot be shipped; the message says why and what to do."""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "run", type=Path, nargs="?", metavar="RUN_DIR", help="a finished deepres run directory"
    )
    p.add_argument("--name", help="MODEL-DATA, e.g. resnet20-cifar10")
    p.add_argument(
        "--rewrite-cards",
        action="store_true",
        help="write every shipped NAME.md again from its NAME.json, and nothing else",
    )
    p.add_argument(
        "--data",
        help="the data the run was trained on (any "
        "`deepres train --data` source); its test split is evaluated",
    )
    p.add_argument(
        "--data-set",
        choices=DATA_SETS,
        help="which data set --data holds: the card names it and its provenance instead of "
        "the folder",
    )
    p.add_argument(
        "--dtype",
        choices=DTYPES,
        default="float16",
        help="storage (default float16, refused if it changes the test error)",
    )
    p.add_argument("--repo", type=Path, default=REPO, help="the checkout to ship into")
    p.add_argument("--cache-dir", type=Path, help="where decoded data sets are cached")
    p.add_argument("--replace", action="store_true", help="replace shipped weights of NAME")
    p.add_argument(
        "--hardware",
        help="what the run trained on, in words, for runs whose meta.json does not name "
        "the CPU (code before the CPU's model name was recorded); the card says it was "
        "stated when shipping",
    )
    args = p.parse_args(argv)
    if args.rewrite_cards:
        for path in rewrite_cards(args.repo):
            print(f"wrote {path}")
        return 0
    if args.run is None or args.name is None or args.data is None:
        p.error("RUN_DIR, --name and --data are needed to ship weights")
    try:
        card = ship(
            args.run,
            args.name,
            args.data,
            args.dtype,
            args.repo,
            args.cache_dir,
            replace=args.replace,
            hardware=args.hardware,
            data_set=args.data_set,
        )
    except (Refused, ValueError) as err:
        print(f"ship_weights: refused: {err}", file=sys.stderr)
        return 2
    print(
        f"shipped {card['name']}: test error {100 * card['test_error']:.2f}% as stored "
        f"({card['storage']}), {100 * card['test_error_float32']:.2f}% in float32; "
        f"{args.repo / SHIPPED / card['file']} ({card['bytes']:,} bytes), results in "
        f"{args.repo / RESULTS / card['name']}"
    )
    return 0


def ship(
    run: Path,
    name: str,
    data: str,
    dtype: str,
    repo: Path,
    cache_dir: Path | None,
    *,
    replace: bool = False,
    hardware: str | None = None,
    data_set: str | None = None,
) -> dict:
    """Check, measure and write everything (see the module docstring); the model card."""
    summary, meta, recipe = finished_run(run)
    model_name = summary["model"]
    if not name.startswith(f"{model_name}-") or "/" in name or "." in name:
        raise Refused(
            f"--name {name}: shipped weights are named MODEL-DATA, here "
            f"{model_name}-DATA (e.g. {model_name}-cifar10)"
        )
    folder = repo / SHIPPED
    if (folder / f"{name}.json").exists() and not replace:
        raise Refused(f"{folder / name}.json exists: --replace to ship new weights as {name}")
    final = run / "checkpoints" / "last.pt"
    splits = open_source(data, cache_dir=cache_dir)
    test = test_split(splits, data, run)
    modes = ["center", "center-flip"] if recipe.get("eval_flip") else ["center"]
    errors = {"float32": test_errors(final, test, modes)}
    with tempfile.TemporaryDirectory() as scratch:
        stored = Path(scratch) / f"{name}.safetensors"
        write_weights(final, stored, DTYPES[dtype])
        errors[dtype] = test_errors(stored, test, modes)
        if errors[dtype] != errors["float32"]:
            raise Refused(
                f"stored as {dtype}, the weights' test errors are {percentages(errors[dtype])}, "
                f"in float32 {percentages(errors['float32'])}: ship them with --dtype float32"
            )
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(stored, folder / stored.name)
    card = model_card(
        name, summary, meta, recipe, data, len(test), errors, dtype, folder / f"{name}.safetensors"
    )
    if data_set:
        name_data_set(card, data_set)
    elif Path(data).expanduser().is_dir():  # a folder of image files: say how they are stored
        card["data"]["note"] = data_note(data, splits.train.files or [])
    if hardware:
        card["hardware"]["stated_when_shipped"] = hardware
    write_text_atomic(folder / f"{name}.json", json.dumps(card, indent=2) + "\n")
    write_text_atomic(folder / f"{name}.md", card_text(card))
    results = repo / RESULTS / name
    results.mkdir(parents=True, exist_ok=True)
    for record in RUN_RECORDS:
        shutil.copyfile(run / record, results / record)
    return card


def name_data_set(card: dict, data_set: str) -> None:
    """The card says which data set it was trained and tested on, and where that comes from,
    in place of the trainer's folder."""
    card["data"].update(source=data_set, tested_on=data_set, set=data_set)
    card["data"]["provenance"] = DATA_SETS[data_set]
    card["recipe"] = {**card["recipe"], "data": data_set}


def rewrite_cards(repo: Path) -> list[Path]:
    """Every shipped NAME.md written again from its NAME.json; the weights are not touched."""
    written = []
    for path in sorted((repo / SHIPPED).glob("*.json")):
        card = json.loads(path.read_text())
        write_text_atomic(path.with_suffix(".md"), card_text(card))
        written.append(path.with_suffix(".md"))
    return written


def finished_run(run: Path) -> tuple[dict, dict, dict]:
    """(summary, meta, recipe) of a run that completed, whose last.pt is its final model."""
    missing = [f for f in (*RUN_RECORDS, "checkpoints/last.pt") if not (run / f).is_file()]
    if missing:
        raise Refused(f"{run}: not a finished deepres run (no {', '.join(missing)})")
    summary = json.loads((run / "summary.json").read_text())
    if summary.get("status") != "completed":
        raise Refused(
            f"{run}: the run has not finished (status {summary.get('status')!r}, "
            f"iteration {summary.get('iterations')} of "
            f"{summary.get('planned_iterations')}); only completed runs are shipped"
        )
    last = load_checkpoint(run / "checkpoints" / "last.pt")["iteration"]
    if last != summary["iterations"]:
        raise Refused(
            f"{run}: checkpoints/last.pt is of iteration {last:,}, the run ended at "
            f"{summary['iterations']:,}"
        )
    meta = json.loads((run / "meta.json").read_text())
    return summary, meta, yaml.safe_load((run / "recipe.yaml").read_text())


def test_split(splits, data: str, run: Path):
    """The test split of ``data``, which must be as large as the one the run was tested on."""
    test = splits.test
    if test is None:
        raise Refused(f"--data {data}: has no test split to measure the weights on")
    records = [
        json.loads(line)
        for line in (run / "metrics.jsonl").read_text().splitlines()
        if line.strip()
    ]
    tested = next((r["test_images"] for r in reversed(records) if "test_images" in r), None)
    if tested is not None and tested != len(test):
        raise Refused(
            f"--data {data}: its test split has {len(test):,} images, the run was "
            f"tested on {tested:,}; give the data the run was trained on"
        )
    return test


def write_weights(checkpoint: Path, path: Path, dtype: torch.dtype) -> None:
    """The checkpoint's weights as safetensors, floating-point tensors stored as ``dtype``,
    with what the checkpoint says of the network (name, classes, preprocessing, recipe)."""
    file = read_weights(checkpoint)
    state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in file.state_dict.items()}
    overflowed = [k for k, v in state.items() if v.is_floating_point() and not v.isfinite().all()]
    if overflowed:  # weights beyond the type's range become inf, which no load accepts
        raise Refused(
            f"stored as {dtype}, {', '.join(overflowed[:3])} overflow to infinity: ship them "
            "with --dtype float32"
        )
    save_weights(path, state, file.info)


def test_errors(weights: Path, test, modes: list[str]) -> dict[str, float]:
    """Top-1 error of each evaluation mode, computed in float32 on the CPU."""
    trained = load_model(weights)
    prep = Preprocessing.from_record(trained.preprocessing, str(weights), trained.input_size)
    results = evaluate(trained, prep, test, modes)["modes"]
    return {mode: results[mode]["top1_error"] for mode in modes}


def percentages(errors: dict[str, float]) -> str:
    return ", ".join(f"{100 * error:.4f}% ({mode})" for mode, error in errors.items())


def model_card(
    name: str,
    summary: dict,
    meta: dict,
    recipe: dict,
    data: str,
    test_images: int,
    errors: dict,
    dtype: str,
    weights: Path,
) -> dict:
    trained_on = meta["data"]
    return {
        "name": name,
        "model": summary["model"],
        "weights": name[len(summary["model"]) + 1 :],  # create_model(model, weights=...)
        "model_args": recipe.get("model_args", {}),
        "data": {
            # MODEL-DATA or MODEL-DATA-VARIANT (resnet20-cifar10-fast): the data set's name
            "name": name[len(summary["model"]) + 1 :].split("-")[0],
            "source": trained_on["source"],
            "kind": trained_on["kind"],
            "images": trained_on["sizes"],
            "classes": trained_on["classes"],
            "image_size": trained_on["image_size"],
            "tested_on": data,
        },
        "recipe": recipe,
        "iterations": summary["iterations"],
        "test_error": errors[dtype]["center"],  # of the weights as shipped
        "test_error_float32": errors["float32"]["center"],
        # the view the recipe validated on, where it is not the centre alone (eval_flip)
        "test_error_center_flip": errors[dtype].get("center-flip"),
        "test_error_during_training": summary["test_error"],  # at the run's own precision
        "test_images": test_images,
        "best_val_error": summary["best_val_error"],
        "best_val_iteration": summary["best_iteration"],
        "precision": precision(recipe, meta),
        "storage": dtype,
        "hardware": {
            k: meta.get(k) for k in ("device", "device_name", "cpu_threads", "world_size")
        },
        "changed_when_resumed": changes_during_run(meta),  # code or hardware, in words
        "training_seconds": summary["train_seconds"],
        "code_commit": meta["git_commit"],
        "torch_version": meta["torch_version"],
        "file": weights.name,
        "bytes": weights.stat().st_size,
        "sha256": sha256_of(weights),
        "results": str(RESULTS / name),
    }


def precision(recipe: dict, meta: dict) -> str:
    """What training computed in: the recipe's amp, where "auto" is bf16 on CUDA only."""
    amp = recipe.get("amp", "auto")
    bf16 = amp == "bf16" or (amp == "auto" and str(meta.get("device", "")).startswith("cuda"))
    return "bf16 autocast" if bf16 else "float32"


def schedule_words(recipe: dict) -> str:
    schedule = recipe.get("schedule", "step")
    if schedule == "step":
        return f"lr / 10 at {recipe.get('milestones')}"
    return f"{schedule} schedule rising over {recipe.get('lr_rise')} iterations"


def stated_hardware(hardware: dict) -> str:
    """The maintainer's words on the hardware, where the run's records did not say enough."""
    stated = hardware.get("stated_when_shipped")
    return f"; stated when shipped: {stated}" if stated else ""


def card_text(card: dict) -> str:
    """The model card for people (Markdown), after its front matter for model hubs."""
    pct = lambda x: "-" if x is None else f"{100 * x:.2f}%"  # noqa: E731
    data, hw = card["data"], card["hardware"]
    sizes = ", ".join(f"{n:,} {split}" for split, n in data["images"].items())
    seconds = card["training_seconds"]
    return card_front_matter(card) + "\n".join(
        [
            f"# {card['name']}",
            "",
            f"`{card['model']}` trained on {data['name']} ({data['source']}: {sizes} images, "
            f"{len(data['classes'])} classes). Load it with "
            f'`deepres.create_model("{card["model"]}", weights="{card["weights"]}")`, or give '
            f"`{card['name']}` to `deepres predict`, `eval`, `embed`, `export` or "
            "`train --init-from`.",
            "",
            *([f"The data: {data['provenance']}.", ""] if "provenance" in data else []),
            *([card["data"]["note"], ""] if "note" in card["data"] else []),
            "| | |",
            "|---|---|",
            f"| test error (centre view, {card['test_images']:,} images, weights as shipped) | "
            f"{pct(card['test_error'])} |",
            f"| test error in float32 | {pct(card['test_error_float32'])} |",
            *(
                [
                    "| test error, centre view and its mirror image (`--mode center-flip`, as "
                    f"the recipe validates) | {pct(card['test_error_center_flip'])} |"
                ]
                if card.get("test_error_center_flip") is not None
                else []
            ),
            f"| test error reported by training (its own view and precision) | "
            f"{pct(card['test_error_during_training'])} |",
            f"| best validation error | {pct(card['best_val_error'])} "
            f"(iteration {card['best_val_iteration']}) |",
            f"| iterations | {card['iterations']:,} (the final network is shipped) |",
            f"| recipe | see `recipe` in {card['name']}.json; lr {card['recipe'].get('lr')}, "
            f"batch {card['recipe'].get('batch_size')}, {schedule_words(card['recipe'])} |",
            f"| precision in training | {card['precision']} |",
            f"| stored as | {card['storage']} ({card['bytes']:,} bytes) |",
            f"| hardware | {hw['device']} ({hw['device_name']}), {hw['cpu_threads']} thread(s), "
            f"{hw['world_size']} process(es){stated_hardware(hw)} |",
            *(
                [f"| changed when resumed | {'; '.join(card['changed_when_resumed'])} |"]
                if card.get("changed_when_resumed")
                else []
            ),
            f"| training time (steps alone, evaluations left out) | {seconds / 3600:.1f} h "
            f"({seconds:,.0f} s) |",
            f"| code | {card['code_commit']} (torch {card['torch_version']}) |",
            f"| sha256 | `{card['sha256']}` |",
            f"| the run's records | {card['results']}/ |",
            "",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
