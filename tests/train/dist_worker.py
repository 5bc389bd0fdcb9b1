"""Run by the distributed tests, under torchrun or alone: train per a JSON recipe, then save this
process's final model state as rank<N>.pt beside the run directory, and in ddp<N>.json how many
DistributedDataParallel wrappers were alive when the process group was destroyed."""

import gc
import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from deepres.train import Recipe, TrainOptions
from deepres.train.loop import Trainer

alive_at_destroy = []
destroy = dist.destroy_process_group


def counting_destroy(*args, **kwargs):
    alive_at_destroy.append(sum(isinstance(o, DistributedDataParallel) for o in gc.get_objects()))
    destroy(*args, **kwargs)


dist.destroy_process_group = counting_destroy
out, recipe_json = Path(sys.argv[1]), sys.argv[2]
trainer = Trainer(
    Recipe(**json.loads(recipe_json)), TrainOptions(out=out / "run", quiet=True, device="cpu")
)
trainer.fit()
torch.save(trainer.model.state_dict(), out / f"rank{trainer.world.rank}.pt")
trainer.close()
(out / f"ddp{trainer.world.rank}.json").write_text(json.dumps(alive_at_destroy))
