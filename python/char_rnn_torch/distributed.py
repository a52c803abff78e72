"""One process of a torchrun job, or the only process: rank, world size, device, and the gathers the
checkpoint needs. torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; without them this is a single process and
no process group is made. The backend is NCCL when CUDA is present and gloo on CPUs.
"""

import os

import torch
import torch.distributed as dist


class Processes:
    def __init__(self, device=None):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if (device is None and torch.cuda.is_available()) or device == "cuda":
            device = f"cuda:{local_rank}"  # one GPU per process
        self.device = torch.device(device or "cpu")
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        if self.world > 1:
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")

    @property
    def main(self):
        return self.rank == 0

    def streams(self, batch):
        """(first, count): this process's contiguous range of the B streams."""
        if batch % self.world != 0:
            raise ValueError(f"batch {batch} does not split over {self.world} processes: give --nproc_per_node a divisor of it")
        count = batch // self.world
        return self.rank * count, count

    def sum(self, value):
        """A float summed over the processes."""
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return t.item()

    def gather_streams(self, state):
        """Each process's (L, B / N, H) state, concatenated along the streams in rank order: (L, B, H)."""
        if self.world == 1:
            return state
        parts = [torch.empty_like(state) for _ in range(self.world)]
        dist.all_gather(parts, state.contiguous())
        return torch.cat(parts, dim=1)

    def close(self):
        if self.world > 1:
            dist.destroy_process_group()
