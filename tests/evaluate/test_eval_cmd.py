"""`deepres eval` on trained runs: its figures agree with what training measured."""

import csv
import json

from PIL import Image
from runs import make_color_folder

from deepres.cli import main


def _eval(capsys, *args):
    code = main(["eval", *args, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_centre_view_error_equals_the_error_training_measured(digits_run, capsys):
    summary = json.loads((digits_run / "summary.json").read_text())
    record = _eval(capsys, str(digits_run / "checkpoints" / "last.pt"))
    assert (record["data"], record["split"], record["model"]) == ("digits", "test", "resnet20")
    center = record["modes"]["center"]
    assert center["images"] == 359
    # The same network on the same images: the same answers, but for a float near-tie.
    assert abs(center["top1_error"] - summary["test_error"]) <= 1 / 359 + 1e-9
    assert center["top5_error"] < center["top1_error"]
    assert (digits_run / "eval-last-digits-test" / "results.json").is_file()


def test_run_directory_means_its_best_checkpoint_and_val_is_the_held_out_split(digits_run, capsys):
    summary = json.loads((digits_run / "summary.json").read_text())
    record = _eval(capsys, str(digits_run), "--split", "val")
    assert record["weights"].endswith("best.pt") and record["modes"]["center"]["images"] == 300
    assert (
        abs(record["modes"]["center"]["top1_error"] - summary["best_val_error"]) <= 1 / 300 + 1e-9
    )


def test_every_mode_writes_its_confusion_matrix(color_run, tmp_path, capsys):
    out = tmp_path / "eval"
    assert (
        main(
            [
                "eval",
                str(color_run),
                "--out",
                str(out),
                "--mode",
                "center",
                "--mode",
                "ten-crop",
                "--mode",
                "multi-scale",
            ]
        )
        == 0
    )
    table = capsys.readouterr().out
    assert "ten-crop" in table and "multi-scale" in table and "top-1 error" in table
    record = json.loads((out / "results.json").read_text())
    assert list(record["modes"]) == ["center", "ten-crop", "multi-scale"]
    assert record["modes"]["multi-scale"]["scales"] == [16, 18, 27, 34, 46]
    classes = ["blue", "gray", "green", "red"]
    for mode, summary in record["modes"].items():
        rows = list(csv.reader(open(out / summary["confusion_csv"])))
        assert rows[0][1:] == classes and [row[0] for row in rows[1:]] == classes
        counts = [[int(c) for c in row[1:]] for row in rows[1:]]
        assert sum(map(sum, counts)) == 16
        per_class = {c["class"]: c for c in summary["per_class"]}
        for i, row in enumerate(rows[1:]):
            images = sum(int(c) for c in row[1:])
            correct = int(row[1 + i])
            assert per_class[row[0]]["images"] == images
            assert per_class[row[0]]["accuracy"] == correct / images
        assert Image.open(out / summary["confusion_png"]).size[0] > 300


def test_other_data_is_matched_to_the_network_classes_by_name(color_run, tmp_path, capsys):
    subset = make_color_folder(
        tmp_path / "two", classes=("gray", "blue"), per_class=2, test_per_class=3
    )
    record = _eval(
        capsys, str(color_run), "--data", str(subset), "--cache-dir", str(tmp_path / "cache")
    )
    assert record["classes"] == ["blue", "gray", "green", "red"]  # the network's four
    counts = {c["class"]: c["images"] for c in record["modes"]["center"]["per_class"]}
    assert counts == {"blue": 3, "gray": 3, "green": 0, "red": 0}
    alien = make_color_folder(tmp_path / "alien", classes=("cyan",), per_class=2)
    assert (
        main(["eval", str(color_run), "--data", str(alien), "--cache-dir", str(tmp_path / "cache")])
        == 2
    )
    assert "class(es) cyan are not among the network's 4 classes" in capsys.readouterr().err


def test_bad_checkpoints_and_splits_are_one_line_errors(digits_run, tmp_path, capsys):
    cut = tmp_path / "cut.pt"
    cut.write_bytes((digits_run / "checkpoints" / "last.pt").read_bytes()[:5000])
    assert main(["eval", str(cut)]) == 2
    err = capsys.readouterr().err
    assert f"{cut}: damaged or truncated checkpoint" in err and "Traceback" not in err


def test_a_missing_split_is_named(color_run, color_folder, capsys):
    assert main(["eval", str(color_run), "--split", "val"]) == 2
    assert f"{color_folder} has no val split (it has test, train)" in capsys.readouterr().err
