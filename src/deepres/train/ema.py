"""An exponential moving average of a network's weights (not the paper's; for short runs).

Late in a run the weights jitter around a minimum with the size of the learning rate; their
running average sits nearer its centre and usually tests better (Polyak & Juditsky, 1992; used
by most fast CIFAR-10 recipes). The average is a second copy of the network, updated every
``every`` steps as ``avg += (1 - decay**every) * (weights - avg)``, so that the cost on a CPU is
one pass over the parameters per ``every`` steps. Early on, when the average would still
remember the random initialisation, the decay is capped at ``(1 + n) / (10 + n)`` after ``n``
updates. Batch-norm statistics are the live network's (copied, not averaged): they describe
activations of weights close to the average's, and copying keeps them exact in eval mode.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class WeightAverage:
    def __init__(self, model: nn.Module, decay: float, every: int = 1):
        if not 0 < decay < 1:
            raise ValueError(f"the weight average's decay must be in (0, 1), got {decay}")
        if every < 1:
            raise ValueError(f"the weight average is updated every >= 1 steps, got {every}")
        self.decay, self.every, self.updates = decay, every, 0
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, iteration: int) -> None:
        """Called after each step with the iteration just finished (counted from 1)."""
        if iteration % self.every:
            return
        decay = min(self.decay**self.every, (1 + self.updates) / (10 + self.updates))
        averaged = [p for p in self.model.parameters() if p.is_floating_point()]
        live = [p.detach() for p in model.parameters() if p.is_floating_point()]
        torch._foreach_lerp_(averaged, live, 1 - decay)
        for mine, theirs in zip(self.model.buffers(), model.buffers()):
            mine.copy_(theirs)
        self.updates += 1

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.updates = state["updates"]
