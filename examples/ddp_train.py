"""Train a generated model under DistributedDataParallel on CPU (gloo), on scikit-learn's digits.

Run on two processes with::

    torchrun --standalone --nproc_per_node=2 examples/ddp_train.py --spec specs/LeNet.dot --steps 60

Each rank trains on its own shard of the digits; DDP averages the gradients, so the
ranks stay identical. At the end every rank checks that its parameters equal rank
0's (an all-reduce of the difference) and, with ``--report DIR``, writes
``rank<N>.json`` with its losses and a checksum of its parameters.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "examples")]

from digits import digits  # noqa: E402

import dotnet  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default=str(ROOT / "specs" / "LeNet.dot"), help="spec of a 1-channel classifier")
    parser.add_argument("--steps", type=int, default=60, help="optimizer steps")
    parser.add_argument("--batch", type=int, default=32, help="images per rank per step")
    parser.add_argument("--lr", type=float, default=5e-3, help="Adam learning rate")
    parser.add_argument("--report", type=Path, help="folder to write rank<N>.json into")
    return parser.parse_args()


def checksum(model: torch.nn.Module) -> str:
    """SHA-256 of every parameter's bytes, in order: equal only for identical parameters."""
    digest = hashlib.sha256()
    for p in model.parameters():
        digest.update(p.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()


def main() -> None:
    args = parse_args()
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(rank)  # different initial weights per rank: DDP must broadcast rank 0's

    compiled = dotnet.compile_spec(args.spec)
    (image,) = compiled.inputs
    size = compiled.example_size(image.shape[-1].size)
    model = DistributedDataParallel(dotnet.build(args.spec))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    train_x, train_y, _, _ = digits(size)
    shard_x, shard_y = train_x[rank::world], train_y[rank::world]

    generator = torch.Generator().manual_seed(1000 + rank)
    losses = []
    model.train()
    for _ in range(args.steps):
        batch = torch.randint(0, len(shard_x), (args.batch,), generator=generator)
        loss = F.cross_entropy(model(shard_x[batch]), shard_y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    flat = torch.cat([p.detach().flatten() for p in model.module.parameters()])
    reference = flat.clone()
    dist.broadcast(reference, src=0)
    spread = (flat - reference).abs().max()
    dist.all_reduce(spread, op=dist.ReduceOp.MAX)
    result = {"rank": rank, "world": world, "losses": losses, "checksum": checksum(model.module)}
    result["max_difference_from_rank0"] = spread.item()
    if args.report is not None:
        args.report.mkdir(parents=True, exist_ok=True)
        (args.report / f"rank{rank}.json").write_text(json.dumps(result), encoding="utf-8")
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    print(f"rank {rank}/{world}: loss {first:.3f} -> {last:.3f}, max difference from rank 0: {spread.item():g}")
    # Release DDP's reducer (it holds the last backward's Gloo work) while the interpreter is
    # fully alive, and let every rank get here, before the process group goes: otherwise Gloo's
    # threads can outlive it and abort at exit ("terminate called without an active exception").
    del model, optimizer
    gc.collect()
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
