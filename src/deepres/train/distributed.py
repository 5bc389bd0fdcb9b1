"""Several processes, one training: the set-up that `torchrun` asks for, and the few
collective operations the loop needs.

torchrun sets RANK, WORLD_SIZE, LOCAL_RANK and the rendezvous; we only join the group:
NCCL when the processes train on GPUs, gloo on CPUs. A plain `deepres train` (or torchrun
with one process) runs without any process group.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass

import torch
import torch.distributed as dist

from deepres.device import pick_device


@dataclass(frozen=True)
class World:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    owns_group: bool = False  # deepres created the process group, and so destroys it

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes logs, metrics and checkpoints."""
        return self.rank == 0

    def all_reduce_sum(self, values: torch.Tensor) -> torch.Tensor:
        if self.distributed:
            dist.all_reduce(values, op=dist.ReduceOp.SUM)
        return values

    def any(self, flag: bool, device: torch.device) -> bool:
        """True on every rank when it is true on some rank (so that all ranks stop together)."""
        if not self.distributed:
            return flag
        value = torch.tensor([float(flag)], device=device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def broadcast_buffers(self, model: torch.nn.Module) -> None:
        """Give every process rank 0's batch-norm statistics. DDP sends them at the start of
        each training forward, so after a step each process still holds its own batch's."""
        if self.distributed:
            for buffer in model.buffers():
                dist.broadcast(buffer, src=0)

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()


def join(device_name: str) -> tuple[World, torch.device]:
    """Join torchrun's process group if there is one; return this process's place and device."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return World(), pick_device(device_name)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(device_name)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)  # one GPU per process
        torch.cuda.set_device(device)
    rank = int(os.environ["RANK"])
    owns_group = not dist.is_initialized()
    if owns_group:
        timeout = datetime.timedelta(seconds=float(os.environ.get("DEEPRES_DIST_TIMEOUT", 600)))
        store, _, _ = next(dist.rendezvous("env://", rank, world_size, timeout=timeout))
        # After torchrun restarts its workers, the store still holds the first attempt's
        # addresses; a fresh prefix per attempt keeps the new workers from dialling the dead.
        store = dist.PrefixStore(
            f"deepres/attempt{os.environ.get('TORCHELASTIC_RESTART_COUNT', '0')}/", store
        )
        dist.init_process_group(
            "nccl" if device.type == "cuda" else "gloo",
            store=store,
            rank=rank,
            world_size=world_size,
            timeout=timeout,
        )
    return World(rank, world_size, local_rank, owns_group), device


# What gloo's and NCCL's errors say when a peer is gone. gloo raises plain RuntimeErrors:
# "[.../gloo/transport/tcp/pair.cc:534] Connection closed by peer ...", "[.../unbound_buffer.cc
# :78] Timed out waiting 2000ms for recv operation to complete", and, from DDP's backward,
# "Application timeout caused pair closure".
_PEER_GONE = re.compile(r"gloo|NCCL|pair closure|[Cc]onnection (closed|reset)|Timed out waiting")


def peer_lost(err: BaseException) -> str | None:
    """What a collective's error says, in one line, when another process stopped answering
    (it died, or was paused past the timeout); None for any other error."""
    text = str(err).strip()
    if not (isinstance(err, dist.DistError) or _PEER_GONE.search(text)):
        return None
    first = text.splitlines()[0] if text else type(err).__name__
    return re.sub(r"^\[[^\]]*\]\s*", "", first)  # the C++ source location is noise here


def leave(world: World) -> None:
    if world.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def launched_by_torchrun() -> bool:
    return "TORCHELASTIC_RUN_ID" in os.environ or int(os.environ.get("WORLD_SIZE", "1")) > 1


def restarted_by_torchrun() -> bool:
    """True in the processes that torchrun started again after a worker died (--max-restarts)."""
    return int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")) > 0
