"""`deepres eval RUN --weights trained`: a run that keeps a weight average (ema_decay > 0)
evaluated with the weights it trained, which its last.pt keeps beside the average; a run
without an average is refused."""

import json

import torch
from runs import tiny_recipe

from deepres.cli import main
from deepres.data import open_source
from deepres.evaluate import evaluate
from deepres.train import TrainOptions, train
from deepres.weights import load_checkpoint, load_model

LENGTHS = dict(val_size=200, iterations=12, log_every=3, eval_every=6, checkpoint_every=3)


def test_the_trained_weights_of_an_averaged_run_are_evaluated(tmp_path, capsys):
    run = tmp_path / "run"
    train(tiny_recipe(**LENGTHS, ema_decay=0.9, ema_every=2), TrainOptions(out=run, quiet=True))
    trained = load_model(run, average=False)
    kept = load_checkpoint(run / "checkpoints" / "last.pt")["trained_weights"]
    assert trained.path.name == "last.pt"
    assert all(torch.equal(trained.model.state_dict()[k], kept[k]) for k in kept)
    assert main(["eval", str(run), "--weights", "trained", "--split", "val", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["which_weights"] == "trained" and record["weights"].endswith("last.pt")
    assert (run / "eval-trained-digits-val" / "results.json").is_file()
    by_hand = evaluate(trained, trained.image_preprocessing(), _val(run), ["center"])
    assert record["modes"]["center"]["top1_error"] == by_hand["modes"]["center"]["top1_error"]
    assert main(["eval", str(run), "--split", "val"]) == 0  # the average, as before
    assert (run / "eval-digits-val" / "results.json").is_file()
    assert "its trained weights" not in capsys.readouterr().out


def test_a_run_without_an_average_is_refused(tmp_path, capsys):
    run = tmp_path / "plain"
    train(tiny_recipe(**LENGTHS), TrainOptions(out=run, quiet=True))
    capsys.readouterr()
    assert main(["eval", str(run), "--weights", "trained"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "last.pt: holds no weight average" in err


def _val(run):
    """The run's held-out split, as `deepres eval --split val` opens it."""
    recipe = load_model(run).recipe
    return open_source("digits", val_size=recipe["val_size"], seed=recipe["seed"]).val
