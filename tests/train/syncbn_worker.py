"""Run by test_distributed, under torchrun or alone: three float64 SGD steps of ResNet-20 on one
fixed global batch of 16 images, each process training on its contiguous share; saves the
model as rank<N>.pt. float64, because ResNet gradients at initialisation are too sensitive to
the order of float32 sums for a tight comparison."""

import sys
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel

from deepres.models import build_network
from deepres.train import Recipe
from deepres.train.build import make_optimizer
from deepres.train.distributed import join, leave
from deepres.train.step import train_step
from deepres.train.sync_bn import convert_sync_batchnorm

world, _ = join("cpu")
torch.manual_seed(0)
model = build_network("resnet20", num_classes=4).double()
generator = torch.Generator().manual_seed(1)
images = torch.randn(16, 3, 32, 32, generator=generator, dtype=torch.float64)
labels = torch.randint(0, 4, (16,), generator=generator)
step_model = model
if world.distributed:
    model = convert_sync_batchnorm(model)
    step_model = DistributedDataParallel(model)
share = slice(world.rank * 16 // world.world_size, (world.rank + 1) * 16 // world.world_size)
optimizer = make_optimizer(model, Recipe())
for _ in range(3):
    train_step(step_model, optimizer, images[share], labels[share])
torch.save(model.state_dict(), Path(sys.argv[1]) / f"rank{world.rank}.pt")
world.barrier()  # gloo's threads free what they hold before shutdown: see Trainer.fit
del step_model  # before the group goes: see TrainingParts.close
leave(world)
