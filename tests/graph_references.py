"""Hand-written PyTorch references for the attention, sequence and plumbing specs (torch only).

Each module registers its parameters in the order the generated class does (parameter
nodes first, in file order, then the op nodes' layers), so weights copy over in order
(:func:`tests.cnn_references.copy_weights`).
"""

from __future__ import annotations

import torch
from torch import nn


class ViT(nn.Module):
    """A small vision transformer: 8x8 patches of a 32x32 image, a class token, two encoder layers."""

    def __init__(self, width: int = 64, classes: int = 10, in_c: int = 3) -> None:
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, width))
        self.pos_embedding = nn.Parameter(torch.randn(1, 17, width) * 0.02)
        self.patchify = nn.Conv2d(in_c, width, kernel_size=8, stride=8)
        layer = nn.TransformerEncoderLayer(
            width, 4, dim_feedforward=128, activation="gelu", norm_first=True, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.head = nn.Linear(width, classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        tokens = self.patchify(images).flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(images.shape[0], -1, -1)
        x = torch.cat([cls, tokens], dim=1) + self.pos_embedding
        return self.head(self.encoder(x)[:, 0])


class Seq2Seq(nn.Module):
    """An LSTM encoder whose final (h, c) start an LSTM decoder run with teacher forcing."""

    def __init__(self, src_vocab: int = 100, tgt_vocab: int = 120, embed: int = 32, hidden: int = 64) -> None:
        super().__init__()
        self.src_embedding = nn.Embedding(src_vocab, embed)
        self.encoder = nn.LSTM(embed, hidden, batch_first=True)
        self.tgt_embedding = nn.Embedding(tgt_vocab, embed)
        self.decoder = nn.LSTM(embed, hidden, batch_first=True)
        self.out = nn.Linear(hidden, tgt_vocab)

    def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        _, state = self.encoder(self.src_embedding(src))
        outputs, _ = self.decoder(self.tgt_embedding(tgt), state)
        return self.out(outputs)


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation (Hu et al.): channel weights from pooled features scale the input."""

    def __init__(self, channels: int = 64, reduction: int = 16) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, channels // reduction)
        self.fc2 = nn.Linear(channels // reduction, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3))))))
        return x * weights[:, :, None, None]
