"""The front matter of a shipped model card (NAME.md): YAML in the Hugging Face convention,
so that model hubs read the library, tags, data set, licence and measured metrics, written
from the card's data (NAME.json) and read back. Nothing here touches the network.

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


def card_front_matter(card: dict) -> str:
    """The YAML front matter of ``card`` (a shipped NAME.json), fenced by ``---`` lines."""
    data = card["data"]["name"]
    metrics = [
        {
            "type": "accuracy",
            "value": _percent(1 - card["test_error"]),
            "name": "test accuracy (centre view, %)",
        }
    ]
    metrics += [
        {"type": "error", "value": _percent(card[key]), "name": words}
        for key, words in _ERRORS.items()
        if card.get(key) is not None
    ]
    matter = {
        "library_name": "deepres",
        "license": LICENSE,
        "tags": ["deepres", "resnet", "image-classification", data],
        "datasets": [data],
        "metrics": ["accuracy"],
        "model-index": [
            {
                "name": card["name"],
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
    """The front matter of the Markdown model card ``path``, as ``card_front_matter`` wrote
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
