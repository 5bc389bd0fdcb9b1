"""Checkpoints: atomic, and never a way to run code."""

import os

import pytest
import torch

from deepres.weights import CheckpointError, load_checkpoint
from deepres.weights.checkpoint import save_checkpoint


def test_round_trip(tmp_path):
    state = {"model": {"w": torch.arange(4.0)}, "iteration": 7, "recipe": {"lr": 0.1}}
    save_checkpoint(state, tmp_path / "c.pt")
    back = load_checkpoint(tmp_path / "c.pt")
    assert back["iteration"] == 7 and torch.equal(back["model"]["w"], torch.arange(4.0))
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary file left behind


def test_failed_write_leaves_previous_checkpoint_whole(tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    save_checkpoint({"iteration": 1}, path)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint({"iteration": 2}, path)
    assert load_checkpoint(path)["iteration"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


class RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_code_carrying_checkpoint_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": "deepres-checkpoint-1", "payload": RunsCode()}, path)
    with pytest.raises(
        CheckpointError, match="evil.pt: refused to load: the file holds Python objects"
    ):
        load_checkpoint(path)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "damaged or truncated"),
        (b"not a checkpoint at all", "damaged or truncated"),
    ],
)
def test_damaged_checkpoint_is_named(tmp_path, content, message):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=f"bad.pt: {message}"):
        load_checkpoint(path)


def test_truncated_and_foreign_checkpoints(tmp_path):
    good = tmp_path / "good.pt"
    save_checkpoint({"model": {"w": torch.randn(1000)}}, good)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="cut.pt: damaged or truncated"):
        load_checkpoint(cut)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(CheckpointError, match="foreign.pt: not a deepres checkpoint"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="missing.pt: no such checkpoint file"):
        load_checkpoint(tmp_path / "missing.pt")
