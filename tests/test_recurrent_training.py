"""Real data: the generated recurrent models learn (figures in docs/recurrent.md).

Both run on one CPU thread: the tensors are small, and one thread is faster than
several contending for two cores.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
import torch
from torch import nn

import dotnet
from tests.conftest import SPECS

pytestmark = pytest.mark.slow


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize(("cell", "threshold"), [("RNNCell", 0.8), ("LSTMCell", 0.9), ("GRUCell", 0.9)])
def test_time_rnn_reads_digits_row_by_row(one_thread, cell, threshold):
    """8x8 digits as 8 steps of 8 features; the label is read at the last step."""
    datasets = pytest.importorskip("sklearn.datasets")
    digits = datasets.load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32) / 16.0
    y = torch.tensor(digits.target)
    generator = torch.Generator().manual_seed(0)
    order = torch.randperm(len(y), generator=generator)
    train, test = order[:1400], order[1400:]
    torch.manual_seed(0)
    model = dotnet.build(SPECS / "TimeRNN.dot", params={"NHidden": 32, "NLayers": 1}, blocks={"RNNCell": cell})
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(12):
        shuffled = train[torch.randperm(len(train), generator=generator)]
        for start in range(0, len(shuffled), 50):
            batch = shuffled[start : start + 50]
            loss = nn.functional.cross_entropy(model(x[batch])[:, -1], y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        accuracy = (model(x[test])[:, -1].argmax(-1) == y[test]).float().mean().item()
    assert accuracy > threshold, f"{cell}: test accuracy {accuracy:.3f}"


def test_nlp_rnn_beats_a_unigram_model_on_python_docs(one_thread):
    """Words of the Python documentation that ships with Python (pydoc_data); every tenth chunk held out."""
    topics = pytest.importorskip("pydoc_data.topics").topics
    words = re.findall(r"[a-z]+|[.,;:()]", " ".join(topics[k] for k in sorted(topics)).lower())
    chunks = [words[i : i + 2000] for i in range(0, len(words), 2000)]
    train_words = [w for k, c in enumerate(chunks) if k % 10 != 9 for w in c]
    held_words = [w for k, c in enumerate(chunks) if k % 10 == 9 for w in c]
    vocab_size = 1000
    vocab = {w: i + 1 for i, (w, _) in enumerate(Counter(train_words).most_common(vocab_size - 1))}  # 0: other
    train = torch.tensor([vocab.get(w, 0) for w in train_words])
    held = torch.tensor([vocab.get(w, 0) for w in held_words])
    frequency = torch.bincount(train, minlength=vocab_size).float() + 1
    unigram = -(frequency / frequency.sum()).log()[held].mean().item()

    torch.manual_seed(0)
    model = dotnet.build(SPECS / "NLPRNN.dot", params={"VocabSize": vocab_size, "NHidden": 64})
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    steps, batch = 32, 32
    for _ in range(600):
        starts = torch.randint(0, len(train) - steps - 1, (batch,))
        sequences = torch.stack([train[s : s + steps + 1] for s in starts])
        logits = model(sequences[:, :-1])
        loss = nn.functional.cross_entropy(logits.reshape(-1, vocab_size), sequences[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    n = (len(held) - 1) // steps * steps
    with torch.no_grad():
        logits = model(held[:n].view(-1, steps))
        held_loss = nn.functional.cross_entropy(logits.reshape(-1, vocab_size), held[1 : n + 1]).item()
    assert held_loss < unigram - 0.6, f"held-out loss {held_loss:.3f} nats/word, unigram {unigram:.3f}"
