"""ConvAutoEncoder written by hand from the diagram, as the seed document draws it."""

from __future__ import annotations

import torch
from torch import nn


class ConvBlock(nn.Module):
    """3x3 conv, batch norm, ReLU, 2x2 max pool: halves width and height."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel_size=3, padding=1)
        self.batchnorm = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.maxpool(self.relu(self.batchnorm(self.conv(x))))


class DeconvBlock(nn.Module):
    """Nearest upsampling x2, 3x3 conv, batch norm, ReLU: doubles width and height."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.upsamp = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv = nn.Conv2d(cin, cout, kernel_size=3, padding=1)
        self.batchnorm = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.batchnorm(self.conv(self.upsamp(x))))


class ConvAutoEncoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = ConvBlock(3, 16)
        self.conv2 = ConvBlock(16, 32)
        self.conv3 = ConvBlock(32, 32)
        self.upconv3 = DeconvBlock(32, 32)
        self.upconv2 = DeconvBlock(32, 16)
        self.upconv1 = DeconvBlock(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv3(self.conv2(self.conv1(x)))
        x = self.upconv1(self.upconv2(self.upconv3(x)))
        return torch.tanh(x)
