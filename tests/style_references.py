"""Hand-written PyTorch references of the issue-12 style specs (VGG16; AlexNet in parts).

Written by hand from d2l.ai's code, layer by layer, independently of dotnet (torchvision is
not used: its C extension does not load beside the CPU build of torch here). ResNet18 and
AlexNet themselves are in :mod:`tests.cnn_references`.
"""

from __future__ import annotations

from torch import nn

from tests.cnn_references import vgg_block

VGG16_ARCH = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))
"""VGG-16's (convolutions, channels) per stage: thirteen convolutions in five stages."""


def vgg16(in_c: int = 1, n_classes: int = 10) -> nn.Module:
    """d2l.ai's vgg(conv_arch) with VGG-16's conv_arch, for 224x224 inputs with ``in_c`` channels."""
    blocks = []
    in_channels = in_c
    for num_convs, out_channels in VGG16_ARCH:
        blocks.append(vgg_block(num_convs, in_channels, out_channels))
        in_channels = out_channels
    return nn.Sequential(
        *blocks, nn.Flatten(),
        nn.Linear(in_channels * 7 * 7, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, n_classes),
    )  # fmt: skip
