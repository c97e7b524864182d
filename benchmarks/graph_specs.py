"""The attention, sequence and squeeze-and-excitation specs against their references.

For each spec of ``tests/test_graph_models.py``: its parameter count and the largest
absolute difference between its output and its reference's, with the reference's
weights copied in, on the test's random inputs. Run from the repository root::

    PYTHONPATH=. .venv/bin/python benchmarks/graph_specs.py
"""

from __future__ import annotations

import torch

import dotnet
from tests.cnn_references import copy_weights
from tests.conftest import SPECS
from tests.test_graph_models import CASES


def main() -> None:
    for name, (make_reference, _, make_inputs, _) in CASES.items():
        torch.manual_seed(0)
        reference = make_reference().eval()
        generated = dotnet.build(SPECS / f"{name}.dot").eval()
        copy_weights(reference, generated)
        inputs = make_inputs()
        with torch.no_grad():
            difference = (reference(*inputs) - generated(*inputs)).abs().max().item()
        count = sum(p.numel() for p in generated.parameters())
        print(f"{name}: {count:,} parameters, max |difference| {difference:.3g}")


if __name__ == "__main__":
    main()
