"""The ingredients of short runs (not the paper's) inside a real training run on the digits:
the weight average is what is evaluated and kept, and a stopped run resumes it exactly."""

import os
import signal

import torch

from deepres.train import TrainOptions, load_recipe, train
from deepres.train.step import train_step
from deepres.weights import load_checkpoint, load_model

FAST = dict(
    model="resnet20",
    data="digits",
    val_size=200,
    batch_size=32,
    iterations=12,
    schedule="onecycle",
    lr_rise=3,
    nesterov=True,
    label_smoothing=0.1,
    decay_norm_and_bias=False,
    ema_decay=0.9,
    ema_every=2,
    eval_flip=True,
    log_every=3,
    eval_every=6,
    checkpoint_every=3,
)


def _recipe(**changes):
    return load_recipe("quick").replace(**{**FAST, **changes})


def test_the_average_is_evaluated_kept_and_loaded(tmp_path):
    summary = train(_recipe(), TrainOptions(out=tmp_path / "run", quiet=True))
    assert summary.status == "completed" and summary.val_error is not None
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert state["average_updates"] == 6  # every 2nd of 12 steps
    average, trained = state["model"], state["trained_weights"]
    assert not torch.equal(average["fc.weight"], trained["fc.weight"])
    kept = load_model(tmp_path / "run").model.state_dict()
    assert all(torch.equal(kept[k], average[k]) for k in average)


def test_a_stopped_run_with_an_average_resumes_exactly(tmp_path):
    train(_recipe(), TrainOptions(out=tmp_path / "straight", quiet=True))

    calls = []

    def stop_after_five(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:  # as a person's Ctrl-C would: the run checkpoints and stops
            os.kill(os.getpid(), signal.SIGTERM)
        return train_step(*args, **kwargs)

    stopped = train(
        _recipe(), TrainOptions(out=tmp_path / "stopped", quiet=True), step=stop_after_five
    )
    assert stopped.status == "stopped by SIGTERM" and stopped.iterations == 5
    resumed = train(_recipe(), TrainOptions(out=tmp_path / "stopped", resume=True, quiet=True))
    assert resumed.status == "completed"
    a = load_checkpoint(tmp_path / "straight" / "checkpoints" / "last.pt")
    b = load_checkpoint(tmp_path / "stopped" / "checkpoints" / "last.pt")
    for part in ("model", "trained_weights"):
        assert all(torch.equal(a[part][k], b[part][k]) for k in a[part]), part
