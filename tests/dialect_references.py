"""Hand-written PyTorch references of the specs written for issue 12 (the diagram dialect).

Each is written by hand from the paper or tutorial the spec's comment names, independently of
dotnet, layer by layer in the order the diagram draws them, so that a generated model can be
compared with it: parameter count and order, output shape, and outputs once the weights are
copied in order. torchvision is not used: its C extension does not load beside the CPU build
of torch here, so DenseNet-121 is written out below after torchvision's densenet.py.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def linear_regression(n_feature: int = 13) -> nn.Module:
    """y = X w + b."""
    return nn.Sequential(nn.Linear(n_feature, 1))


def softmax_regression(in_c: int = 1, n_classes: int = 10) -> nn.Module:
    """d2l.ai's softmax regression on 28x28 images, grey by default (d2l.ai 4.4)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(in_c * 28 * 28, n_classes), nn.Softmax(dim=1))


def mlp(n_feature: int = 768, n_hidden: int = 256, n_labels: int = 10) -> nn.Module:
    """Two hidden ReLU layers of the same width."""
    return nn.Sequential(
        nn.Linear(n_feature, n_hidden), nn.ReLU(),
        nn.Linear(n_hidden, n_hidden), nn.ReLU(),
        nn.Linear(n_hidden, n_labels),
    )  # fmt: skip


class LeNet5(nn.Module):
    """The ``Net`` of PyTorch's "Neural Networks" tutorial: LeNet-5 with ReLU and max pooling."""

    def __init__(self, in_c: int = 1, n_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class DenseLayer(nn.Module):
    """torchvision's _DenseLayer (bn_size 4, no dropout), convolutions with biases."""

    def __init__(self, in_channels: int, growth_rate: int) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, 4 * growth_rate, kernel_size=1)
        self.norm2 = nn.BatchNorm2d(4 * growth_rate)
        self.conv2 = nn.Conv2d(4 * growth_rate, growth_rate, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        new = self.conv2(F.relu(self.norm2(self.conv1(F.relu(self.norm1(x))))))
        return torch.cat([x, new], 1)


def transition(in_channels: int, out_channels: int) -> nn.Module:
    """torchvision's _Transition, the convolution with a bias."""
    return nn.Sequential(
        nn.BatchNorm2d(in_channels), nn.ReLU(),
        nn.Conv2d(in_channels, out_channels, kernel_size=1),
        nn.AvgPool2d(kernel_size=2, stride=2),
    )  # fmt: skip


def densenet121(n_classes: int = 1000, compression: float = 0.5, in_c: int = 3) -> nn.Module:
    """torchvision's densenet121 (growth 32, blocks 6-12-24-16, 64 stem features), with biases."""
    growth, channels = 32, 64
    layers: list[nn.Module] = [
        nn.Conv2d(in_c, channels, kernel_size=7, stride=2, padding=3),
        nn.BatchNorm2d(channels), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    ]  # fmt: skip
    for i, n_layers in enumerate((6, 12, 24, 16)):
        layers.append(nn.Sequential(*(DenseLayer(channels + k * growth, growth) for k in range(n_layers))))
        channels += n_layers * growth
        if i != 3:
            layers.append(transition(channels, int(channels * compression)))
            channels = int(channels * compression)
    layers += [nn.BatchNorm2d(channels), nn.ReLU(), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten()]
    layers.append(nn.Linear(channels, n_classes))
    return nn.Sequential(*layers)


class VAE(nn.Module):
    """The VAE of PyTorch's examples/vae/main.py (784-400-20), returning the reconstruction."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h1 = F.relu(self.fc1(x))
        mu, logvar = self.fc21(h1), self.fc22(h1)
        eps = torch.randn(x.shape[0], 20, device=x.device, dtype=x.dtype)
        z = mu + torch.exp(logvar / 2) * eps
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))
