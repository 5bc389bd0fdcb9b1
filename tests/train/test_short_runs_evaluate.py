"""Short runs do not evaluate more than they train, and Ctrl-C stops an evaluation at once
(issue 29, item 6)."""

import json
import os
import signal

from runs import tiny_recipe

from deepres.cli import main
from deepres.experiments.cifar10 import Cifar10Settings, shared_recipe
from deepres.runs import RunStatus
from deepres.train import TrainOptions, train
from deepres.train.step import evaluation_sums


def test_a_shortened_schedule_evaluates_no_more_often_than_an_eighth_of_its_own():
    short = shared_recipe(Cifar10Settings(out=None, iterations=50))
    assert short.eval_every == 250  # cifar-paper's 2,000 / 8: evaluated only at the end
    note = shared_recipe(Cifar10Settings(out=None)).scaling_note(short)  # said at start
    assert "evaluations every 250" in note and "a small share of the time" in note
    assert shared_recipe(Cifar10Settings(out=None, iterations=32000)).eval_every == 1000


def test_ctrl_c_in_an_evaluation_stops_it_and_the_resumed_run_evaluates_first(tmp_path, capsys):
    batches_seen = []

    def interrupted_evaluation(model, batches, **kwargs):
        def counted():
            for batch in batches:
                batches_seen.append(1)
                if len(batches_seen) == 2:
                    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, in the second batch
                yield batch

        return evaluation_sums(model, counted(), **kwargs)

    out = tmp_path / "run"
    recipe = tiny_recipe(iterations=8, log_every=4, eval_every=4, checkpoint_every=4)
    summary = train(recipe, TrainOptions(out=out, quiet=True), evaluate=interrupted_evaluation)
    assert (summary.status, summary.reason) == (RunStatus.STOPPED, "SIGINT")
    assert summary.iterations == 4
    assert len(batches_seen) == 2  # of the 6 batches of the 359 test images
    assert "stopped the evaluation at iteration 4" in capsys.readouterr().err
    assert main(["train", "--resume", str(out), "--quiet"]) == 0
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in records if "test_error" in r] == [4, 8]
