"""stop_at_val_error: a run ends at the first evaluation at or below the target, with the
steps since the last log point counted and the network that reached it checkpointed; resuming
it trains no further (the time-to-accuracy benchmark relies on all three)."""

import json

from runs import tiny_recipe

from deepres.train import TrainOptions, train
from deepres.weights import load_checkpoint


def _records(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_a_run_ends_at_its_target_and_resuming_it_trains_no_further(tmp_path, capsys):
    # Digits, 10 classes: any network is at or below 99% error from the first evaluation.
    recipe = tiny_recipe(
        val_size=200, iterations=40, log_every=4, eval_every=6, checkpoint_every=20,
        stop_at_val_error=0.99,
    )  # fmt: skip
    out = tmp_path / "run"
    summary = train(recipe, TrainOptions(out=out, quiet=True))
    assert summary.status == "reached target" and summary.iterations == 6
    assert "reached validation error" in capsys.readouterr().err
    records = _records(out)
    steps = [r for r in records if "train_loss" in r]
    # Logged at 4, then the two steps after it at 6, so every step's seconds are on record.
    assert [r["iteration"] for r in steps] == [4, 6] and steps[-1]["images"] == 2 * 32
    assert [r["iteration"] for r in records if "val_error" in r] == [6]
    assert load_checkpoint(out / "checkpoints" / "last.pt")["iteration"] == 6

    again = train(recipe, TrainOptions(out=out, resume=True, quiet=True))
    assert again.status == "reached target" and again.iterations == 6
    assert _records(out) == records


def test_a_target_that_is_not_reached_lets_the_run_complete(tmp_path):
    recipe = tiny_recipe(
        val_size=200, iterations=6, log_every=3, eval_every=3, checkpoint_every=3,
        stop_at_val_error=0.0001,
    )  # fmt: skip
    summary = train(recipe, TrainOptions(out=tmp_path / "run", quiet=True))
    assert summary.status == "completed" and summary.iterations == 6
