"""A folder without a test split (issue 13, item 5): training says there is no held-out error,
and `deepres eval` does not quietly evaluate on the training images."""

from runs import train_run

from deepres.cli import main


def test_no_held_out_error_is_said_and_eval_needs_split_train(color_folder, tmp_path, capsys):
    flat = color_folder / "train"  # <class>/<image>: training images only
    run = train_run(
        tmp_path / "run",
        "--data",
        str(flat),
        "--iterations",
        "2",
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    out = capsys.readouterr().out
    assert f"no held-out error: {flat} has no test or validation split" in out
    assert "--set val_size=N, or put a test/ folder beside train/" in out

    assert main(["eval", str(run), "--cache-dir", str(tmp_path / "cache")]) == 2
    err = capsys.readouterr().err
    assert f"{flat} has no test or val split, only training images" in err
    assert "give --split train" in err and "Traceback" not in err

    assert main(["eval", str(run), "--split", "train", "--cache-dir", str(tmp_path / "cache")]) == 0
    out, err = capsys.readouterr()
    assert (
        f"note: evaluating on the train split of {flat}: the images the network was "
        "trained on" in err
    )
    assert "train split: 48 images" in out
