"""Trained briefly on real photographs, the compiled autoencoder learns to reconstruct them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import dotnet
from tests.conftest import SPECS


def photo_patches(count: int, size: int, seed: int = 0) -> torch.Tensor:
    """Random size x size crops of the two sample photographs scikit-learn ships, scaled to [0, 1]."""
    datasets = pytest.importorskip("sklearn.datasets")
    images = datasets.load_sample_images().images  # china.jpg, flower.jpg: 427 x 640 x 3, uint8
    rng = np.random.default_rng(seed)
    patches = []
    for _ in range(count):
        image = images[rng.integers(len(images))]
        top = rng.integers(image.shape[0] - size)
        left = rng.integers(image.shape[1] - size)
        patches.append(image[top : top + size, left : left + size])
    batch = torch.tensor(np.stack(patches), dtype=torch.float32) / 255.0
    return batch.permute(0, 3, 1, 2).contiguous()  # (N, C, H, W)


@pytest.mark.slow
def test_reconstruction_loss_falls_well_below_its_start():
    torch.manual_seed(0)
    model = dotnet.build(SPECS / "ConvAutoEncoder.dot")
    train, held_out = photo_patches(32, 256, seed=0), photo_patches(8, 256, seed=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

    def held_out_loss() -> float:
        model.eval()
        with torch.no_grad():
            return torch.nn.functional.mse_loss(model(held_out), held_out).item()

    start = held_out_loss()
    model.train()
    for step in range(60):
        batch = train[(step * 8) % 32 : (step * 8) % 32 + 8]
        loss = torch.nn.functional.mse_loss(model(batch), batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    end = held_out_loss()
    print(f"held-out reconstruction MSE: {start:.4f} -> {end:.4f}")
    assert end < 0.25 * start
