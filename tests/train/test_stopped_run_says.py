"""An interrupted run says why it has no held-out error and how to go on (issue 29, item 8)."""

import os
import signal

from deepres.cli import main
from deepres.train import step as steps
from deepres.train.loop import Trainer


def test_a_run_stopped_before_its_first_evaluation_says_so_and_how_to_continue(
    tmp_path, capsys, monkeypatch
):
    real_step, calls = steps.train_step, []

    def ctrl_c_in_step_3(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return real_step(*args, **kwargs)

    # Ctrl-C as a person presses it, in the third step of `deepres train`.
    monkeypatch.setitem(Trainer.__init__.__kwdefaults__, "step", ctrl_c_in_step_3)
    out = tmp_path / "digits"
    code = main(["train", "--quiet", "--out", str(out), "--set", "batch_size=32"])
    assert code == 128 + signal.SIGINT
    said = capsys.readouterr().out
    assert "stopped by SIGINT after 3 of 600 iterations" in said
    assert "has no test or validation split" not in said
    assert "before its first evaluation on the test split" in said
    assert f"to continue: deepres train --resume {out}" in said
