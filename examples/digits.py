"""The handwritten digits that scikit-learn ships, as images for a generated CNN.

``load_digits`` holds 1,797 grey 8x8 images of the digits 0-9 (values 0-16). They
are scaled up with bilinear interpolation to the size a spec declares (28x28 for
LeNet), standardized, and split 75/25 into training and held-out sets, stratified.
"""

from __future__ import annotations

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.nn import functional as F


def digits(size: int = 28, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(train_images, train_labels, test_images, test_labels)``; images are (N, 1, size, size)."""
    data = load_digits()
    images = torch.tensor(data.images, dtype=torch.float32).unsqueeze(1) / 16.0
    images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    images = (images - images.mean()) / images.std()
    labels = torch.tensor(data.target)
    train_x, test_x, train_y, test_y = train_test_split(
        images, labels, test_size=0.25, random_state=seed, stratify=labels
    )
    return train_x, train_y, test_x, test_y
