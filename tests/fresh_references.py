"""Hand-written PyTorch references of the diagrams drawn afresh in the seed style (issue 12).

The models live in tests/data/documents/fresh-models.md (autoencoders, a DCGAN generator and
discriminator, a text CNN, an LSTM classifier, a conditional VAE, a Transformer encoder layer,
a tiny U-Net) and in specs/ (MobileNetV1, SqueezeNet 1.1, a CIFAR ResNet-20). Each is written
by hand from its paper (or the torchvision layout its spec names), independently of dotnet,
with its layers registered in the order the diagram draws them, so a generated model can be
compared with it: parameter count and order, output shape, and outputs once the weights are
copied in order. No torchvision: its C extension does not load beside the CPU build of torch.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def stacked_autoencoder() -> nn.Module:
    """784-256-64-256-784 with ReLUs and a sigmoid on the reconstruction."""
    return nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 64), nn.ReLU(),
        nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 784), nn.Sigmoid(),
    )  # fmt: skip


class DenoisingAutoEncoder(nn.Module):
    """Flatten a 28x28 image, add 0.3 * N(0, 1) noise, 784-128-32-128-784, fold back."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 32), nn.ReLU(),
            nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 784), nn.Sigmoid(),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        row = torch.flatten(x, 1)
        noisy = row + 0.3 * torch.randn(row.shape, device=row.device, dtype=row.dtype)
        return self.net(noisy).reshape(-1, 1, 28, 28)


def _up(in_channels: int, out_channels: int) -> nn.Module:
    return nn.Sequential(
        nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1, bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU(),
    )  # fmt: skip


def dcgan_generator(nz: int = 100) -> nn.Module:
    """The generator of Radford et al. 2016 as PyTorch's DCGAN tutorial writes it (ngf = 64)."""
    return nn.Sequential(
        nn.ConvTranspose2d(nz, 512, 4, 1, 0, bias=False), nn.BatchNorm2d(512), nn.ReLU(),
        _up(512, 256), _up(256, 128), _up(128, 64),
        nn.ConvTranspose2d(64, 3, 4, 2, 1, bias=False), nn.Tanh(),
    )  # fmt: skip


class TextCNN(nn.Module):
    """Kim 2014: embeddings, convolutions of widths 3, 4, 5, max over time, dropout, Linear."""

    def __init__(self, vocab: int = 5000, dim: int = 128, filters: int = 100, labels: int = 2) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.convs = nn.ModuleList(nn.Conv1d(dim, filters, k) for k in (3, 4, 5))
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(3 * filters, labels)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embedding(ids).transpose(1, 2)
        pooled = [F.relu(conv(x)).amax(dim=2) for conv in self.convs]
        return self.fc(self.dropout(torch.cat(pooled, dim=1)))


class ConditionalVAE(nn.Module):
    """A VAE (784-400-20) whose encoder and decoder both see the one-hot label."""

    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Linear(784 + 10, 400)
        self.fc_mu = nn.Linear(400, 20)
        self.fc_logvar = nn.Linear(400, 20)
        self.dec1 = nn.Linear(20 + 10, 400)
        self.dec2 = nn.Linear(400, 784)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.enc(torch.cat([x, y], dim=1)))
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        eps = torch.randn(x.shape[0], 20, device=x.device, dtype=x.dtype)
        z = mu + torch.exp(logvar / 2) * eps
        return torch.sigmoid(self.dec2(F.relu(self.dec1(torch.cat([z, y], dim=1)))))


class AttentionBlock(nn.Module):
    """A post-norm Transformer encoder layer (Vaswani et al. 2017) without dropout."""

    def __init__(self, d_model: int = 64, heads: int = 4, d_ff: int = 256) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, heads, batch_first=True)
        self.ln1 = nn.LayerNorm(d_model)
        self.ff1 = nn.Linear(d_model, d_ff)
        self.ff2 = nn.Linear(d_ff, d_model)
        self.ln2 = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mid = self.ln1(self.attn(x, x, x, need_weights=False)[0] + x)
        return self.ln2(self.ff2(F.relu(self.ff1(mid))) + mid)


def _conv_bn_relu(cin: int, cout: int, kernel: int, stride: int, groups: int = 1) -> list[nn.Module]:
    conv = nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False)
    return [conv, nn.BatchNorm2d(cout), nn.ReLU()]


_MOBILENET_V1_PAIRS = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)]
_MOBILENET_V1_PAIRS += [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]
"""Input channels, output channels and stride of MobileNetV1's thirteen depthwise separable pairs."""


def mobilenet_v1(n_labels: int = 1000) -> nn.Module:
    """MobileNetV1 (Howard et al. 2017, Table 1) at width 1.0, without dropout: one flat Sequential."""
    layers = _conv_bn_relu(3, 32, 3, 2)
    for cin, cout, stride in _MOBILENET_V1_PAIRS:
        layers += _conv_bn_relu(cin, cin, 3, stride, groups=cin) + _conv_bn_relu(cin, cout, 1, 1)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, n_labels)]
    return nn.Sequential(*layers)


def mobilenet_v1_by_pairs(n_labels: int = 1000) -> nn.Module:
    """The same layers as the widely copied hand-written MobileNetV1s build them (marvis/pytorch-mobilenet's
    ``conv_dw(inp, oup, stride)``): one ``nn.Sequential`` per depthwise separable pair, ReLUs in place."""

    def conv_bn_relu(cin: int, cout: int, kernel: int, stride: int, groups: int = 1) -> list[nn.Module]:
        conv, norm, _ = _conv_bn_relu(cin, cout, kernel, stride, groups)
        return [conv, norm, nn.ReLU(inplace=True)]

    pairs = [
        nn.Sequential(*conv_bn_relu(cin, cin, 3, stride, groups=cin), *conv_bn_relu(cin, cout, 1, 1))
        for cin, cout, stride in _MOBILENET_V1_PAIRS
    ]
    head = [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, n_labels)]
    return nn.Sequential(nn.Sequential(*conv_bn_relu(3, 32, 3, 2)), *pairs, *head)


class Fire(nn.Module):
    """SqueezeNet's fire module, as torchvision's squeezenet.py writes it."""

    def __init__(self, cin: int, squeeze: int, expand: int) -> None:
        super().__init__()
        self.squeeze = nn.Conv2d(cin, squeeze, 1)
        self.expand1x1 = nn.Conv2d(squeeze, expand, 1)
        self.expand3x3 = nn.Conv2d(squeeze, expand, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = F.relu(self.squeeze(x))
        return torch.cat([F.relu(self.expand1x1(s)), F.relu(self.expand3x3(s))], 1)


def squeezenet1_1(n_labels: int = 1000) -> nn.Module:
    """torchvision's squeezenet1_1 layout."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 3, 2), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True),
        Fire(64, 16, 64), Fire(128, 16, 64), nn.MaxPool2d(3, 2, ceil_mode=True),
        Fire(128, 32, 128), Fire(256, 32, 128), nn.MaxPool2d(3, 2, ceil_mode=True),
        Fire(256, 48, 192), Fire(384, 48, 192), Fire(384, 64, 256), Fire(512, 64, 256),
        nn.Dropout(0.5), nn.Conv2d(512, n_labels, 1), nn.ReLU(),
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
    )  # fmt: skip


class BasicBlock(nn.Module):
    """He et al. 2016's CIFAR basic block; a strided one has a 1x1 projection (option B)."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + self.shortcut(x))


def resnet20(n_labels: int = 10) -> nn.Module:
    """ResNet-20 for 32x32 images: 16-32-64 channels, three blocks a stage."""
    stages: list[nn.Module] = [BasicBlock(16, 16) for _ in range(3)]
    stages += [BasicBlock(16, 32, 2), BasicBlock(32, 32), BasicBlock(32, 32)]
    stages += [BasicBlock(32, 64, 2), BasicBlock(64, 64), BasicBlock(64, 64)]
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), *stages,
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(64, n_labels),
    )  # fmt: skip


def discriminator() -> nn.Module:
    """A small DCGAN discriminator (Radford et al. 2016): strided 4x4 convolutions, leaky ReLUs."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Conv2d(128, 1, 16, bias=False), nn.Sigmoid(), nn.Flatten(),
    )  # fmt: skip


class LSTMClassifier(nn.Module):
    """Embeddings, a two-layer bidirectional LSTM, the last step's output, log-probabilities."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(10000, 100)
        self.lstm = nn.LSTM(100, 128, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(256, 5)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embedding(ids))
        return F.log_softmax(self.fc(out[:, -1]), dim=1)


class TinyUNet(nn.Module):
    """One U-Net level (Ronneberger et al. 2015): down, up by a transposed convolution, skip joined."""

    def __init__(self) -> None:
        super().__init__()
        self.d1 = nn.Conv2d(1, 16, 3, padding=1)
        self.d2 = nn.Conv2d(16, 32, 3, padding=1)
        self.up = nn.ConvTranspose2d(32, 16, 2, stride=2)
        self.head = nn.Conv2d(32, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = F.relu(self.d1(x))
        u = self.up(F.relu(self.d2(F.max_pool2d(skip, 2))))
        return self.head(torch.cat([skip, u], dim=1))
