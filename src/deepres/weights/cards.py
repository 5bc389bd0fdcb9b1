"""A shipped model card for people (NAME.md), written from its data (``ModelCard``, NAME.json):
a table of what was measured and how the weights were trained, after front matter in the
Hugging Face convention (YAML), so that model hubs read the library, tags, data set, licence
and measured metrics; ``read_card`` reads the front matter back. Nothing here touches the
network.

    ---
    library_name: deepres
    license: mit
    tags: [deepres, resnet, image-classification, cifar10]
    datasets: [cifar10]
    metrics: [accuracy]
    model-index:
    - name: resnet20-cifar10
      results:
      - task: {type: image-classification, name: Image Classification}
        dataset: {name: cifar10, type: cifar10, split: test}
        metrics:
        - {type: accuracy, value: 87.2, name: test accuracy (centre view, %)}
        ...
    ---
"""

from __future__ import annotations

from pathlib import Path

import yaml

from deepres.catalog import Hardware, ModelCard
from deepres.errors import CheckpointError

LICENSE = "mit"  # deepres's (pyproject.toml), under which the weights it trained ship
_FENCE = "---"
# card key -> the metric's words; each figure is a fraction in the card, a percentage here
_ERRORS = {
    "test_error": "test error (centre view, %)",
    "test_error_float32": "test error in float32 (centre view, %)",
    "test_error_center_flip": "test error (centre view and its mirror image, %)",
    "best_val_error": "best validation error (%)",
}


def card_markdown(card: ModelCard) -> str:
    """NAME.md: the front matter for model hubs, then the card for people."""
    data, hw = card.data, card.hardware
    sizes = ", ".join(f"{n:,} {split}" for split, n in data.images.items())
    seconds = card.training_seconds
    return _front_matter(card) + "\n".join(
        [
            f"# {card.name}",
            "",
            f"`{card.model}` trained on {data.name} ({data.source}: {sizes} images, "
            f"{len(data.classes)} classes). Load it with "
            f'`deepres.create_model("{card.model}", weights="{card.weights}")`, or give '
            f"`{card.name}` to `deepres predict`, `eval`, `embed`, `export` or "
            "`train --init-from`.",
            "",
            *([f"The data: {data.provenance}.", ""] if data.provenance is not None else []),
            *([data.note, ""] if data.note is not None else []),
            "| | |",
            "|---|---|",
            f"| test error (centre view, {card.test_images:,} images, weights as shipped) | "
            f"{_percent_words(card.test_error)} |",
            f"| test error in float32 | {_percent_words(card.test_error_float32)} |",
            *(
                [
                    "| test error, centre view and its mirror image (`--mode center-flip`, as "
                    f"the recipe validates) | {_percent_words(card.test_error_center_flip)} |"
                ]
                if card.test_error_center_flip is not None
                else []
            ),
            f"| test error reported by training (its own view and precision) | "
            f"{_percent_words(card.test_error_during_training)} |",
            f"| best validation error | {_best_val_words(card)} |",
            f"| iterations | {_iterations_words(card)} (the final network is shipped) |",
            f"| recipe | see `recipe` in {card.name}.json; lr {card.recipe.get('lr')}, "
            f"batch {card.recipe.get('batch_size')}, {_schedule_words(card.recipe)} |",
            f"| precision in training | {card.precision} |",
            f"| stored as | {card.storage} ({card.bytes:,} bytes) |",
            f"| hardware | {hw.device} ({hw.device_name}), {hw.cpu_threads} thread(s), "
            f"{hw.world_size} process(es){_stated_hardware(hw)} |",
            *(
                [f"| changed when resumed | {'; '.join(card.changed_when_resumed)} |"]
                if card.changed_when_resumed
                else []
            ),
            f"| training time (steps alone, evaluations left out) | {seconds / 3600:.1f} h "
            f"({seconds:,.0f} s{_paused_words(card.paused_seconds)}) |",
            f"| code | {card.code_commit} (torch {card.torch_version}) |",
            f"| sha256 | `{card.sha256}` |",
            f"| the run's records | {card.results}/ |",
            "",
        ]
    )


def _paused_words(seconds: float | None) -> str:
    if not seconds or seconds < 1:
        return ""
    return f"; its process also stood paused for about {seconds:,.0f} s, left out"


def _percent_words(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def _best_val_words(card: ModelCard) -> str:
    if card.best_val_error is None:
        return "none: no validation split, every training image trained on"
    return f"{_percent_words(card.best_val_error)} (iteration {card.best_val_iteration})"


def _iterations_words(card: ModelCard) -> str:
    """The iterations, and the images (and epochs) they trained on: the measure of compute
    that compares recipes of different batch sizes."""
    batch, train = card.recipe.get("batch_size"), card.data.images.get("train")
    if not batch:
        return f"{card.iterations:,}"
    images = card.iterations * batch
    epochs = f", {images / train:.1f} epochs of the {train:,} training images" if train else ""
    return f"{card.iterations:,} of batch {batch}: {images:,} images{epochs}"


def _schedule_words(recipe: dict) -> str:
    schedule = recipe.get("schedule", "step")
    if schedule == "step":
        return f"lr / 10 at {recipe.get('milestones')}"
    return f"{schedule} schedule rising over {recipe.get('lr_rise')} iterations"


def _stated_hardware(hardware: Hardware) -> str:
    """The shipper's words on the hardware, where the run's records did not say enough."""
    stated = hardware.stated_when_shipped
    return f"; stated when shipped: {stated}" if stated else ""


def _front_matter(card: ModelCard) -> str:
    """The YAML front matter of ``card``, fenced by ``---`` lines."""
    data = card.data.name
    metrics = [
        {
            "type": "accuracy",
            "value": _percent(1 - card.test_error),
            "name": "test accuracy (centre view, %)",
        }
    ]
    metrics += [
        {"type": "error", "value": _percent(getattr(card, key)), "name": words}
        for key, words in _ERRORS.items()
        if getattr(card, key) is not None
    ]
    matter = {
        "library_name": "deepres",
        "license": LICENSE,
        "tags": ["deepres", "resnet", "image-classification", data],
        "datasets": [data],
        "metrics": ["accuracy"],
        "model-index": [
            {
                "name": card.name,
                "results": [
                    {
                        "task": {"type": "image-classification", "name": "Image Classification"},
                        "dataset": {"name": data, "type": data, "split": "test"},
                        "metrics": metrics,
                    }
                ],
            }
        ],
    }
    text = yaml.safe_dump(matter, sort_keys=False, default_flow_style=None, width=100)
    return f"{_FENCE}\n{text}{_FENCE}\n"


def read_card(path: str | Path) -> dict:
    """The front matter of the Markdown model card ``path``, as ``card_markdown`` wrote
    it; ``CheckpointError`` names the file when it has none or it is not YAML."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: unreadable model card ({err})") from None
    if not lines or lines[0] != _FENCE or _FENCE not in lines[1:]:
        raise CheckpointError(f"{path}: no front matter (a first line '---' and a closing one)")
    end = lines.index(_FENCE, 1)
    try:
        matter = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as err:
        raise CheckpointError(f"{path}: its front matter is not YAML ({err})") from None
    if not isinstance(matter, dict):
        raise CheckpointError(f"{path}: its front matter is not a mapping of fields")
    return matter


def _percent(fraction: float) -> float:
    return round(100 * fraction, 2)
