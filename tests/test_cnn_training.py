"""Generated models learn: LeNet on scikit-learn's digits, and a run under torch.distributed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from torch.nn import functional as F  # noqa: E402

import dotnet  # noqa: E402
from tests.conftest import REPO, SPECS  # noqa: E402

sys.path.insert(0, str(REPO / "examples"))
from digits import digits  # noqa: E402


@pytest.fixture
def one_thread():  # type: ignore[no-untyped-def]
    """Train on one thread: LeNet's layers are too small to gain from two, and on a busy
    machine two threads spin-wait for each other (4 s of training became 90 s here)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_generated_lenet_learns_the_digits(one_thread, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    """At least 95% held-out accuracy after 15 epochs of Adam; the time is reported, not asserted."""
    torch.manual_seed(0)
    train_x, train_y, test_x, test_y = digits(28)
    model = dotnet.build(SPECS / "LeNet.dot")
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(15):
        model.train()
        for batch in torch.randperm(len(train_x)).split(32):
            loss = F.cross_entropy(model(train_x[batch]), train_y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    model.eval()
    with torch.no_grad():
        accuracy = (model(test_x).argmax(dim=1) == test_y).float().mean().item()
    with capsys.disabled():
        print(f"\nLeNet on digits: {accuracy:.1%} held-out after {seconds:.1f} s ({cpu_seconds:.1f} s CPU) of training")
    assert accuracy >= 0.95


@pytest.mark.slow
def test_ddp_on_two_processes_keeps_ranks_identical_and_learns(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # torchrun itself, bound to this interpreter (a torchrun on PATH may belong to another Python)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    command += [str(REPO / "examples" / "ddp_train.py")]
    command += ["--spec", str(SPECS / "LeNet.dot"), "--report", str(tmp_path)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world"] for r in ranks] == [2, 2]
    assert ranks[0]["checksum"] == ranks[1]["checksum"]
    assert all(r["max_difference_from_rank0"] == 0 for r in ranks)
    for r in ranks:
        losses = r["losses"]
        assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.3, losses
