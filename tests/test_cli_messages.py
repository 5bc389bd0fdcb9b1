"""What the command line says on the paths a newcomer takes first (issue 13, item 8)."""

import subprocess
import sys

import pytest

import deepres
from deepres.cli import main
from deepres.data import DataError, open_source


def test_version_is_printed(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"deepres {deepres.__version__}"


def test_version_does_not_load_the_commands():
    code = (
        "import sys\nfrom deepres.cli import main\ntry:\n    main(['--version'])\n"
        "except SystemExit:\n    pass\nprint('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.stdout.split() == ["deepres", deepres.__version__, "False"], result.stderr


def test_missing_cifar_names_the_command_line_flag(tmp_path):
    with pytest.raises(DataError, match="--download"):
        open_source("cifar10", cache_dir=tmp_path)


def test_predict_prints_no_table_header_when_nothing_was_predicted(color_run, tmp_path, capsys):
    text = tmp_path / "scan.jpg"
    text.write_text("this is not an image")
    assert main(["predict", str(color_run), str(text)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert f"error: {text}: a text file" in err


def test_a_short_class_list_is_printed_whole(color_run, tmp_path, capsys):
    from runs import make_color_folder

    alien = make_color_folder(tmp_path / "alien", classes=("cyan",), per_class=2)
    assert (
        main(["eval", str(color_run), "--data", str(alien), "--cache-dir", str(tmp_path / "cache")])
        == 2
    )
    err = capsys.readouterr().err
    assert "network's 4 classes (blue, gray, green, red)" in err and "..." not in err
