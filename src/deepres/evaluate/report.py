"""Writing an evaluation down: results.json, and per mode a confusion matrix as CSV and PNG."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from deepres.atomic import make_folder, write_together
from deepres.extras import available

_LABELLED_UP_TO = 40  # classes; beyond, the plot's axes carry no names


def write_evaluation(out: Path, header: dict, results: dict) -> dict:
    """Write ``out``/results.json (``header`` plus what ``evaluate`` returned) and the
    confusion matrices beside it (as CSV, and as PNG where matplotlib, the ``plots`` extra,
    is installed); returns what was written to results.json. All the files are written whole
    before any is renamed into place, so a failure (a ``WriteError`` names the file) leaves
    the old results as they were, never new CSVs beside an old results.json."""
    make_folder(out)
    classes = results["classes"]
    modes, contents = {}, {}
    for mode, summary in results["modes"].items():
        summary = dict(summary)
        files = {"confusion_csv": f"confusion-{mode}.csv"}
        if "confusion_cells" in summary:  # too many classes for a matrix: its non-zero cells
            cells = summary.pop("confusion_cells")
            contents[files["confusion_csv"]] = confusion_cells_csv(cells, classes)
        else:
            confusion = summary.pop("confusion")
            contents[files["confusion_csv"]] = confusion_csv(confusion, classes)
            if available("plots"):
                files["confusion_png"] = f"confusion-{mode}.png"
                title = f"{header['model']}, {mode}: top-1 error {100 * summary['top1_error']:.2f}%"
                contents[files["confusion_png"]] = plot_confusion(confusion, classes, title)
        modes[mode] = {**summary, **files}
    record = {**header, "classes": classes, "modes": modes}
    contents = {"results.json": (json.dumps(record, indent=2) + "\n").encode(), **contents}
    write_together([(out / name, _writer(data)) for name, data in contents.items()])
    return record


def _writer(data: bytes):
    return lambda f: f.write(data)


def confusion_csv(confusion: np.ndarray, classes: list[str]) -> bytes:
    """Rows: true class; columns: predicted class; cells: images."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["true \\ predicted", *classes])
    for name, row in zip(classes, confusion):
        writer.writerow([name, *row.tolist()])
    return text.getvalue().encode()


def confusion_cells_csv(cells: np.ndarray, classes: list[str]) -> bytes:
    """One row per non-zero cell: true class, predicted class, images."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["true", "predicted", "images"])
    for true, predicted, images in cells.tolist():
        writer.writerow([classes[true], classes[predicted], images])
    return text.getvalue().encode()


def plot_confusion(confusion: np.ndarray, classes: list[str], title: str) -> bytes:
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
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=100)
    return png.getvalue()
