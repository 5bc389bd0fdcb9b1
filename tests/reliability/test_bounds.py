"""Sizes a user gives are bounded before anything is allocated from them: multi-scale sides,
decoding workers, the device, and the confusion matrix of a very long class list (issue 30,
items 10 and 11 and their one-line cases)."""

from __future__ import annotations

import pytest
import torch

from deepres.cli import main
from deepres.evaluate import write_evaluation
from deepres.evaluate.metrics import summarize_scores


def _usage_error(capsys, argv) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


def test_multi_scale_sides_and_workers_are_bounded(color_run, color_folder, capsys):
    line = _usage_error(
        capsys, ["eval", str(color_run), "--mode", "multi-scale", "--scales", "30000"]
    )
    assert "argument --scales: sides from 1 to 4096 pixels, not '30000'" in line
    image = str(color_folder / "test" / "red" / "0.png")
    line = _usage_error(capsys, ["predict", str(color_run), image, "--workers", "100000"])
    assert "argument --workers: from 0 (decode in this process) to 64, not '100000'" in line


def test_a_device_that_holds_no_numbers_is_one_line(color_run, color_folder, capsys):
    image = str(color_folder / "test" / "red" / "0.png")
    assert main(["predict", str(color_run), image, "--device", "meta"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "deepres predict: error: --device meta: deepres runs on cpu or cuda[:N], not meta"
    )


def test_eleven_thousand_classes_keep_only_the_non_zero_cells(tmp_path):
    classes = [f"c{i:05d}" for i in range(11_000)]
    labels = torch.arange(11) * 1000
    scores = torch.zeros(11, len(classes))
    scores[torch.arange(11), labels] = 1.0
    scores[3, 5] = 2.0  # one wrong answer
    summary = summarize_scores(scores, labels, classes)
    assert "confusion" not in summary and summary["confusion_cells"].shape == (11, 3)
    assert summary["per_class"][3000]["accuracy"] == 0.0
    assert summary["top1_error"] == pytest.approx(1 / 11)
    header = {"model": "resnet20", "weights": "w", "data": "d", "split": "test"}
    record = write_evaluation(tmp_path, header, {"classes": classes, "modes": {"center": summary}})
    csv = (tmp_path / "confusion-center.csv").read_text().splitlines()
    assert csv[0] == "true,predicted,images" and "c03000,c00005,1" in csv and len(csv) == 12
    assert "confusion_png" not in record["modes"]["center"]
    assert (tmp_path / "confusion-center.csv").stat().st_size < 1000
