"""Python names for things the diagram names: classes, submodules, variables, arguments.

Names are derived, never copied: node ids become identifiers (``σ`` becomes
``sigma``, ``class`` becomes ``class_``), symbols become snake_case
(``NHidden`` becomes ``n_hidden``), and every name in a class is unique.

One rule decides which names are reserved (:func:`reserved_reason`): Python's
keywords, dunder names (``__class__``, ``__all__``), builtins, the names the
generated module defines or imports (``torch``, ``nn``, ``scan_layers``) and,
inside a class, ``nn.Module``'s attributes and the methods dotnet writes
(``forward``, ``scan``, ``reset_parameters``). A reserved name the generator
derives (a node, symbol or formula parameter) is mangled with a trailing ``_``,
the node id staying in the comment beside it; a digraph name, which is the class
name the user imports, is refused with a located ``bad-name`` error.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata

from dotnet import codes
from dotnet.diagnostics import Location, error

MODULE_ATTRIBUTES = frozenset(
    """T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda
    double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter
    get_submodule half ipu load_state_dict modules mtia named_buffers named_children named_modules
    named_parameters parameters register_backward_hook register_buffer register_forward_hook
    register_forward_pre_hook register_full_backward_hook register_full_backward_pre_hook
    register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module
    register_parameter register_state_dict_post_hook register_state_dict_pre_hook requires_grad_
    set_extra_state set_submodule share_memory state_dict to to_empty train training type xpu
    zero_grad""".split()
)
"""Public attributes of ``nn.Module`` (torch 2.13); a test keeps this list complete."""

GENERATED_CODE_NAMES = frozenset(
    {"self", "torch", "nn", "F", "super", "annotations", "math", "int", "range", "_"}
    | {"scan_cell", "RecurrentScan", "CellStack", "Callable", "Sequence"}
    | {"onednn_serves", "dense", "onednn_packed", "scan_matmul", "by_onednn", "ScanProjection", "scan_project"}
    | {"forward_autocast"}
    | {"library_kernel_runs"}
)
"""Names the generated code itself uses."""

GENERATED_METHODS = frozenset({"forward", "scan", "reset_parameters"})
"""Methods dotnet writes into a class."""

BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_"))
"""Python's builtins: a generated name never shadows one."""

_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "η": "eta", "θ": "theta",
    "λ": "lambda", "μ": "mu", "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau", "φ": "phi", "ψ": "psi",
    "ω": "omega",
}  # fmt: skip


def identifier(text: str) -> str:
    """An ASCII identifier for arbitrary node text: ``W[f]`` -> ``W_f``, ``σ`` -> ``sigma``."""
    spelled = "".join(_GREEK.get(ch, ch) for ch in text)
    ascii_text = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode()
    name = re.sub(r"\W+", "_", ascii_text).strip("_")
    if not name:
        name = "node"
    if name[0].isdigit():
        name = "n" + name
    return name


def snake_case(symbol: str) -> str:
    """``NHidden`` -> ``n_hidden``, ``BlockW`` -> ``block_w``, ``VocabSize`` -> ``vocab_size``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", identifier(symbol))
    return spaced.lower()


def reserved_reason(name: str, in_class: bool) -> str | None:
    """Why ``name`` cannot be used as it is (at module level, or ``in_class``), or ``None``."""
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return "a Python keyword"
    if name.startswith("__"):
        return "a name Python reserves or mangles (it starts with '__')"
    if name in BUILTINS:
        return "a Python builtin"
    if name in GENERATED_CODE_NAMES:
        return "a name the generated code uses"
    if in_class and name in MODULE_ATTRIBUTES | GENERATED_METHODS:
        return "an attribute or method of nn.Module or of the generated class"
    return None


def class_name(graph_name: str, location: Location) -> str:
    """The digraph's name as a class name, or an error saying why it cannot be one."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", graph_name):
        shown = graph_name if len(graph_name) <= 40 else graph_name[:37] + "..."
        raise error(
            codes.BAD_NAME,
            f"digraph name {shown!r} cannot name a Python class: use letters, digits and '_'",
            location,
        )
    reason = reserved_reason(graph_name, in_class=False)
    if reason is not None:
        raise error(codes.BAD_NAME, f"digraph name {graph_name!r} is {reason}; rename it", location)
    return graph_name


class Namespace:
    """Hands out unique, safe names within one generated class."""

    def __init__(self, taken: set[str] | None = None) -> None:
        self.taken = set(taken or ()) | GENERATED_CODE_NAMES

    def claim(self, base: str) -> str:
        """``base``, or ``base_`` when it is reserved, made unique with ``_2``, ``_3``, ..."""
        name = base
        if reserved_reason(name, in_class=True) is not None:
            name += "_"
        candidate, n = name, 2
        while candidate in self.taken:
            candidate = f"{name}_{n}"
            n += 1
        self.taken.add(candidate)
        return candidate
