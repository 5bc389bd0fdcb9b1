"""Ctrl-C while data is scanned or decoded is one line and exit status 130, no traceback from
the process nor from its decoding workers, and it stops at once; an image without pixels is
one error, not a ZeroDivisionError (issue 30, item 8)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from deepres.cli import main
from deepres.errors import DataError
from deepres.weights import load_model

_DECODE_SLOWLY = """
import sys, time
from deepres.data.pool import map_files
from deepres.cli import run_command

def decode_all(args):
    print("decoding", flush=True)
    map_files(time.sleep, [0.01] * 4096, desc="decoding", workers=2)

sys.exit(run_command("train", decode_all, None))
"""


def test_ctrl_c_while_decoding_is_one_line_and_stops_the_workers_at_once():
    process = subprocess.Popen(
        [sys.executable, "-c", _DECODE_SLOWLY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's Ctrl-C reaches it
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        assert process.stdout.readline() == "decoding\n"
        time.sleep(1.5)  # the workers are busy with their chunks
        start = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err
    assert time.monotonic() - start < 5  # not the ~20 s that the chunks left would take
    assert "Traceback" not in err and err.strip().endswith("deepres train: interrupted"), err


def test_ctrl_c_while_scanning_leaves_no_run_folder(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("deepres.data.folder.scan_split", interrupted)
    (tmp_path / "data" / "train" / "a").mkdir(parents=True)
    out = tmp_path / "run"
    assert main(["train", "--data", str(tmp_path / "data"), "--out", str(out)]) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == "deepres train: interrupted"
    assert not out.exists()


def test_predict_of_an_image_without_pixels_is_one_error(color_run):
    trained = load_model(color_run)
    for empty in (np.zeros((0, 0, 3), np.uint8), np.zeros((5, 0), np.uint8)):
        with pytest.raises(DataError, match="pixels has none to see"):
            trained.predict(empty)
