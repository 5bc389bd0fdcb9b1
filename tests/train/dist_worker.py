"""Run by the distributed tests, under torchrun or alone: train per a JSON recipe, then save this
process's final model state as rank<N>.pt beside the run directory."""

import json
import sys
from pathlib import Path

import torch

from deepres.train import Recipe, TrainOptions
from deepres.train.distributed import leave
from deepres.train.loop import Trainer

out, recipe_json = Path(sys.argv[1]), sys.argv[2]
trainer = Trainer(
    Recipe(**json.loads(recipe_json)), TrainOptions(out=out / "run", quiet=True, device="cpu")
)
trainer.fit()
torch.save(trainer.model.state_dict(), out / f"rank{trainer.world.rank}.pt")
leave(trainer.world)
