"""Run by the distributed tests, under torchrun or alone: train per a JSON recipe, then save this
process's final model state as rank<N>.pt beside the run directory, and in exit<N>.json how the
process left the group: how many DistributedDataParallel wrappers were alive when the process
group was destroyed, and the names of the last collective calls before that."""

import gc
import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from deepres.train import Recipe, TrainOptions
from deepres.train.loop import Trainer
from deepres.train.parts import build_training

ddp_alive_at_destroy, calls = [], []


def recorded(name, original, before=lambda: None):
    def call(*args, **kwargs):
        before()
        calls.append(name)
        return original(*args, **kwargs)

    return call


def count_ddp_wrappers():
    ddp_alive_at_destroy.append(
        sum(isinstance(o, DistributedDataParallel) for o in gc.get_objects())
    )


for name in ("all_reduce", "broadcast", "barrier"):
    setattr(dist, name, recorded(name, getattr(dist, name)))
dist.destroy_process_group = recorded(
    "destroy_process_group", dist.destroy_process_group, before=count_ddp_wrappers
)
out, recipe_json = Path(sys.argv[1]), sys.argv[2]
parts = build_training(
    Recipe(**json.loads(recipe_json)), TrainOptions(out=out / "run", quiet=True, device="cpu")
)
Trainer(parts).fit()
torch.save(parts.model.state_dict(), out / f"rank{parts.world.rank}.pt")
parts.close()
exit_record = {"ddp_alive_at_destroy": ddp_alive_at_destroy, "last_calls": calls[-3:]}
(out / f"exit{parts.world.rank}.json").write_text(json.dumps(exit_record))
