"""Writing an evaluation down: results.json, and per mode a confusion matrix as CSV and PNG."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from deepres.atomic import make_folder, write_atomic, write_text_atomic
from deepres.extras import available

_LABELLED_UP_TO = 40  # classes; beyond, the plot's axes carry no names


def write_report(out: Path, header: dict, results: dict) -> dict:
    """Write ``out``/results.json (``header`` plus what ``evaluate`` returned) and the
    confusion matrices beside it (as CSV, and as PNG where matplotlib, the ``plots`` extra,
    is installed); returns what was written to results.json. Each file is written whole or
    not at all (a ``WriteError`` names the one that could not be)."""
    make_folder(out)
    classes = results["classes"]
    modes = {}
    for mode, summary in results["modes"].items():
        summary = dict(summary)
        confusion = summary.pop("confusion")
        files = {"confusion_csv": f"confusion-{mode}.csv"}
        write_confusion_csv(out / files["confusion_csv"], confusion, classes)
        if available("plots"):
            files["confusion_png"] = f"confusion-{mode}.png"
            plot_confusion(
                out / files["confusion_png"],
                confusion,
                classes,
                f"{header['model']}, {mode}: top-1 error {100 * summary['top1_error']:.2f}%",
            )
        modes[mode] = {**summary, **files}
    record = {**header, "classes": classes, "modes": modes}
    write_text_atomic(out / "results.json", json.dumps(record, indent=2) + "\n")
    return record


def write_confusion_csv(path: Path, confusion: np.ndarray, classes: list[str]) -> None:
    """Rows: true class; columns: predicted class; cells: images."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["true \\ predicted", *classes])
    for name, row in zip(classes, confusion):
        writer.writerow([name, *row.tolist()])
    write_text_atomic(path, text.getvalue())


def plot_confusion(path: Path, confusion: np.ndarray, classes: list[str], title: str) -> None:
    """Each row as fractions of its true class, so that small classes show as clearly."""
    from matplotlib.figure import Figure  # the plots extra; half a second to import

    rows = confusion.sum(axis=1, keepdims=True)
    fractions = confusion / np.maximum(rows, 1)
    k = len(classes)
    size = min(4 + 0.3 * min(k, _LABELLED_UP_TO), 16)
    fig = Figure(figsize=(size + 1.5, size), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(fractions, cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
    fig.colorbar(image, ax=ax, label="fraction of the true class")
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    if k <= _LABELLED_UP_TO:
        ax.set_xticks(range(k), classes, rotation=90)
        ax.set_yticks(range(k), classes)
    write_atomic(path, lambda f: fig.savefig(f, format="png", dpi=100))
