"""Generated names are valid, unique, and clear of keywords and nn.Module attributes."""

from __future__ import annotations

import keyword

import pytest
from torch import nn

from dotnet.codegen.naming import MODULE_ATTRIBUTES, Namespace, identifier, reserved_reason, snake_case


def test_module_attribute_list_is_complete():
    public = {n for n in dir(nn.Module()) if not n.startswith("_")}
    assert public <= MODULE_ATTRIBUTES


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("featmap_e1", "featmap_e1"),
        ("σ", "sigma"),
        ("W[f]", "W_f"),
        ("H[t-1]", "H_t_1"),
        ("1x1", "n1x1"),
        ("输入", "node"),
    ],
)
def test_identifier(text, name):
    assert identifier(text) == name


@pytest.mark.parametrize(
    ("symbol", "name"),
    [("NHidden", "n_hidden"), ("BlockW", "block_w"), ("VocabSize", "vocab_size"), ("NIn", "n_in"), ("K", "k")],
)
def test_snake_case(symbol, name):
    assert snake_case(symbol) == name


def test_namespace_avoids_keywords_module_attributes_and_repeats():
    ns = Namespace()
    names = [ns.claim(b) for b in ("class", "forward", "training", "x", "x", "self", "torch")]
    assert names == ["class_", "forward_", "training_", "x", "x_2", "self_", "torch_"]
    assert not any(keyword.iskeyword(n) for n in names)


@pytest.mark.parametrize(
    ("name", "in_class", "reason"),
    [
        ("match", False, "a Python keyword"),
        ("__all__", False, "a name Python reserves or mangles (it starts with '__')"),
        ("__Net", False, "a name Python reserves or mangles (it starts with '__')"),
        ("print", False, "a Python builtin"),
        ("scan_cell", False, "a name the generated code uses"),
        ("scan", True, "an attribute or method of nn.Module or of the generated class"),
        ("reset_parameters", True, "an attribute or method of nn.Module or of the generated class"),
        ("scan", False, None),
        ("Net", False, None),
        ("conv1", True, None),
    ],
)
def test_one_rule_decides_which_names_are_reserved(name, in_class, reason):
    assert reserved_reason(name, in_class) == reason


def test_reserved_derived_names_get_a_trailing_underscore():
    ns = Namespace()
    assert [ns.claim(b) for b in ("scan", "reset_parameters", "input", "len", "scan")] == [
        "scan_",
        "reset_parameters_",
        "input_",
        "len_",
        "scan__2",
    ]
