"""Issue 12 items 2, 3 and 5: documents with repeated names or a broken digraph, blocks
found the way authors name them, and models drawn in parts.

Each test writes a small document and checks what a user sees: the exact diagnostics,
the exit code, and what compiles.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dotnet import SpecError, compile_spec
from dotnet.tools.check import check_source
from dotnet.tools.extract import extract
from tests.conftest import run_cli


def linear(name: str, n_in: int, n_out: int, first: str = "inp", last: str = "oup") -> str:
    """A one-line digraph ``name``: ``first`` [B, n_in] -> Linear -> ``last`` [B, n_out]."""
    return (
        f'digraph {name} {{ {first} [label="[B, {n_in}]", shape=Mrecord] fc [label="Linear[{n_in}, {n_out}]"] '
        f'{last} [label="[B, {n_out}]", shape=Mrecord] {first} -> fc -> {last} }}'
    )


def write(tmp_path: Path, *lines: str, name: str = "doc.md") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def printed(path: Path) -> list[str]:
    return [d.format_text() for d in check_source(path, {})]


def errors_of(exc: pytest.ExceptionInfo[SpecError]) -> list[str]:
    return [d.format_text() for d in exc.value.diagnostics]


# -- item 2: repeated names --------------------------------------------------------------
def test_identical_repeat_is_one_digraph_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, "Prose.", linear("A", 4, 2), "More prose.", linear("A", 4, 2))
    assert printed(Path("doc.md")) == [
        "doc.md:4:1: warning: digraph 'A' is written again, the same as at line 2: one digraph [repeated-graph]"
    ]
    compiled = compile_spec(Path("doc.md"), "A")
    assert [d.code for d in compiled.report.diagnostics] == ["repeated-graph"]
    assert compile_spec(path).class_name == "A"  # still the document's only digraph


def test_differing_repeats_each_check_and_compile_by_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad_second = linear("A", 4, 3).replace('oup [label="[B, 3]"', 'oup [label="[B, 9]"')
    write(tmp_path, linear("A", 4, 2), linear("B", 4, 4), bad_second)
    assert printed(Path("doc.md")) == [
        "doc.md:3:1: warning: digraph 'A' is defined again, differently from line 1; a call or --graph A is then "
        "an error: pick one with --graph A@3 [duplicate-graph]",
        "doc.md:3:75: error: node 'oup': declared [B, 9] but 'fc' produces [B, 3] [shape-mismatch]",
    ]
    with pytest.raises(SpecError) as exc:
        compile_spec(Path("doc.md"), "A")
    assert errors_of(exc) == [
        "doc.md:1:1: error: digraph 'A' is defined 2 times, differently (lines 1, 3); "
        "pick one with --graph A@1 or --graph A@3 [duplicate-graph]"
    ]
    first = compile_spec(Path("doc.md"), "A@1")
    assert "nn.Linear(4, 2)" in first.source
    assert [d.code for d in first.report.diagnostics] == ["duplicate-graph"]
    assert compile_spec(Path("doc.md"), "B").class_name == "B"  # the others are untouched
    with pytest.raises(SpecError) as exc:
        compile_spec(Path("doc.md"), "A@2")
    assert errors_of(exc) == [
        "doc.md:1:1: error: --graph A@2: no digraph 'A' starts on line 2; they start on lines 1, 3 [graph-not-found]"
    ]


def test_a_call_of_a_name_defined_twice_differently_is_an_error_at_the_call(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = (
        'digraph M { x [label="[B, 4]", shape=Mrecord] c [label="A"] y [label="[B, 2]", shape=Mrecord] x -> c -> y }'
    )
    write(tmp_path, model, linear("A", 4, 2), linear("A", 4, 2).replace("Linear", "Linear ").replace("fc", "f2"))
    with pytest.raises(SpecError) as exc:
        compile_spec(Path("doc.md"), "M")
    assert errors_of(exc) == [
        "doc.md:1:47: error: node 'c': digraph 'A' is defined 2 times, differently (lines 2, 3); "
        "pick one with --graph A@2 or --graph A@3 [duplicate-graph]"
    ]


def test_a_broken_digraph_stops_only_itself(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    broken = 'digraph Broken { a [label="[B, 4]", shape=Mrecord] a -> -> b }'
    write(tmp_path, "Prose.", linear("A", 4, 2), broken, linear("C", 4, 3).replace("[B, 3]", "[B, 8]", 1))
    syntax = "doc.md:3:57: error: expected a node id, found '->' [syntax-error]"
    assert printed(Path("doc.md")) == [
        syntax,
        "doc.md:4:75: error: node 'oup': declared [B, 8] but 'fc' produces [B, 3] [shape-mismatch]",
    ]
    assert compile_spec(Path("doc.md"), "A").class_name == "A"
    for graph in ("Broken", None):
        with pytest.raises(SpecError) as exc:
            compile_spec(Path("doc.md"), graph)
        assert errors_of(exc) == [syntax]
    written, problems = extract(Path("doc.md"), tmp_path / "out")
    assert [w.path.name for w in written] == ["A.dot", "C.dot"]
    assert [d.format_text() for d in problems] == [syntax]


def test_extract_writes_a_differing_repeat_beside_the_first(tmp_path):
    path = write(tmp_path, linear("A", 4, 2), linear("A", 4, 2), linear("A", 4, 5))
    result = run_cli("extract", path, "-o", tmp_path / "out")
    assert result.code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["A-line3.dot", "A.dot"]
    assert "Linear[4, 5]" in (tmp_path / "out" / "A-line3.dot").read_text()
    assert "[repeated-graph]" in result.stderr and "[duplicate-graph]" in result.stderr


def test_a_call_of_a_broken_digraph_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = (
        'digraph M { x [label="[B, 4]", shape=Mrecord] c [label="Broken"] y [label="[B, 2]", shape=Mrecord] '
        "x -> c -> y }"
    )
    write(tmp_path, model, "digraph Broken { a -> -> b }")
    with pytest.raises(SpecError) as exc:
        compile_spec(Path("doc.md"), "M")
    assert errors_of(exc) == [
        "doc.md:1:47: error: node 'c': digraph 'Broken' (line 2) does not parse; see the error there [unknown-block]"
    ]


# -- item 3: finding blocks ------------------------------------------------------------------
IMAGE_BLOCK = (
    'digraph {name} {{ i [label="[B, W=BlockW, H=BlockH, C=BlockIn]", shape=Mrecord] '
    'c [label="Conv2D[K=3, P=1, In=BlockIn, Out=BlockOut]"] {extra} '
    'o [label="[B, W={out}, H={out_h}, C=BlockOut]", shape=Mrecord] i -> c -> {chain} o }}'
)


def block(name: str, scale: str = "") -> str:
    """An image block: a 3x3 convolution, then ``scale`` ("down", "up" or nothing)."""
    extra, chain, out, out_h = "", "", "BlockW", "BlockH"
    if scale == "down":
        extra, chain, out, out_h = 'p [label="MaxPool2D[K=2, S=2]"]', "p ->", "BlockW/2", "BlockH/2"
    if scale == "up":
        extra, chain, out, out_h = 'u [label="UpSample x2"]', "u ->", "BlockW*2", "BlockH*2"
    return IMAGE_BLOCK.format(name=name, extra=extra, chain=chain, out=out, out_h=out_h)


def model(name: str, *calls: tuple[str, int, int]) -> str:
    """A digraph ``name`` that calls each ``(label, width after, channels after)`` in a chain."""
    nodes = ['inp [label="[B, W=16, H=16, C=3]", shape=Mrecord]']
    chain = ["inp"]
    channels = 3
    for index, (label, width, out) in enumerate(calls, start=1):
        nodes.append(f'call{index} [label="{label}[In={channels}, Out={out}]"]')
        nodes.append(f't{index} [label="[B, W={width}, H={width}, C={out}]", shape=Mrecord]')
        chain += [f"call{index}", f"t{index}"]
        channels = out
    return f"digraph {name} {{ {' '.join(nodes)} {' -> '.join(chain)} }}"


def test_the_callers_name_and_initials_are_prefixes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path,
        model("SmallNet", ("ConvBlock1", 8, 8), ("DownBlock", 4, 8)),
        block("SNConvBlock", "down"),  # SmallNet's initials
        block("SmallNetDownBlock", "down"),  # SmallNet's name
    )
    compiled = compile_spec(Path("doc.md"), "SmallNet")
    assert "self.call1 = SNConvBlock(block_in=3, block_out=8)" in compiled.source
    assert "self.call2 = SmallNetDownBlock(block_in=8, block_out=8)" in compiled.source
    assert compiled.report.diagnostics == []  # a name rule binds without a warning


def test_a_name_written_out_wins_over_the_prefix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, model("SmallNet", ("ConvBlock1", 16, 8)), block("SNConvBlock", "down"), block("ConvBlock"))
    assert "self.call1 = ConvBlock(block_in=3, block_out=8)" in compile_spec(Path("doc.md"), "SmallNet").source


def test_a_block_found_by_prefix_passes_the_prefix_on(tmp_path, monkeypatch):
    """Inside ResNet18ConvBlock (found as ResNet18 + ConvBlock), DownBlock is ResNet18DownBlock."""
    monkeypatch.chdir(tmp_path)
    stage = (
        'digraph ResNet18ConvBlock { i [label="[B, W=BlockW, H=BlockH, C=BlockIn]", shape=Mrecord] '
        'd [label="DownBlock[In=BlockIn, Out=BlockOut]"] o [label="[B, W=BlockW/2, H=BlockH/2, C=BlockOut]", '
        "shape=Mrecord] i -> d -> o }"
    )
    write(tmp_path, model("ResNet18", ("ConvBlock", 8, 4)), stage, block("ResNet18DownBlock", "down"))
    compiled = compile_spec(Path("doc.md"), "ResNet18")
    assert "self.d = ResNet18DownBlock(block_in=block_in, block_out=block_out)" in compiled.source
    assert compiled.report.diagnostics == []


def test_two_digraphs_that_fit_by_shape_are_an_error_listing_both(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, model("Net", ("UpBlock1", 32, 8)), block("Net2UpSampleBlock", "up"), block("OtherUpBlock", "up"))
    with pytest.raises(SpecError) as exc:
        compile_spec(Path("doc.md"), "Net")
    assert errors_of(exc) == [
        "doc.md:1:65: error: node 'call1': no digraph is named 'UpBlock1' or 'UpBlock', and 2 ending in 'Block' "
        "fit here: 'Net2UpSampleBlock', 'OtherUpBlock'; bind one with --block UpBlock=GRAPH [ambiguous-block]"
    ]


def test_the_one_that_fits_every_call_of_the_name_is_bound_with_a_warning(tmp_path, monkeypatch):
    """The last call has no declared tensor after it; the earlier one decides between the two."""
    monkeypatch.chdir(tmp_path)
    net = (
        model("Net", ("UpBlock1", 32, 8), ("UpBlock2", 64, 4))
        .replace(
            't2 [label="[B, W=64, H=64, C=4]", shape=Mrecord]',
            't2 [label="Tanh"] t3 [label="[B, W=64, H=64, C=4]", shape=Mrecord]',
        )
        .replace("-> t2 }", "-> t2 -> t3 }")
    )
    write(tmp_path, net, block("NetConvDownBlock", "down"), block("NetDeconvBlock", "up"))
    compiled = compile_spec(Path("doc.md"), "Net")
    assert "self.call2 = NetDeconvBlock(block_in=8, block_out=4)" in compiled.source
    assert [d.format_text() for d in compiled.report.diagnostics if d.node == "call2"] == [
        "doc.md:1:152: warning: node 'call2': no digraph is named 'UpBlock2' or 'UpBlock'; called "
        "'NetDeconvBlock', the only digraph ending in 'Block' that fits here (say so with --block "
        "UpBlock=NetDeconvBlock) [block-by-shape]"
    ]


def test_a_misspelt_call_suggests_the_closest_digraph_by_name_and_by_shape(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, model("DenseNet", ("Trasition1", 8, 4)), block("TransitionLayer", "down"), block("Other", "down"))
    with pytest.raises(SpecError) as exc:
        compile_spec(Path("doc.md"), "DenseNet")
    assert errors_of(exc) == [
        "doc.md:1:70: error: node 'call1': no op or block named 'Trasition1' or 'Trasition'; digraph "
        "'TransitionLayer' fits here (so do 'Other') and is the closest by name: bind it with --block "
        "Trasition=TransitionLayer [unknown-block]"
    ]


def test_a_misspelt_call_that_fits_nothing_suggests_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, model("DenseNet", ("Trasition1", 5, 4)), block("TransitionLayer", "down"))
    with pytest.raises(SpecError) as exc:
        compile_spec(Path("doc.md"), "DenseNet")
    assert errors_of(exc) == [
        "doc.md:1:70: error: node 'call1': no op or block named 'Trasition1' or 'Trasition'; did you mean "
        "'TransitionLayer'? (a block is a digraph in the same document, a file Trasition.dot next to the spec, "
        "or one bound with --block Trasition=GRAPH) [unknown-op]"
    ]


# -- item 5: models drawn in parts ----------------------------------------------------------
def parts_document(tmp_path: Path, head_input: str = "[B, 16]") -> Path:
    encoder = linear("TinyMLPEncoder", 20, 16, last="hidden")
    head = linear("TinyMLPHead", 16, 5, first="hidden").replace("fc", "fc2").replace('"[B, 16]"', f'"{head_input}"')
    return write(tmp_path, encoder, head)


def test_parts_compile_as_one_model_named_by_their_prefix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    parts_document(tmp_path)
    compiled = compile_spec(Path("doc.md"), "TinyMLPEncoder+TinyMLPHead")
    assert compiled.class_name == "TinyMLP"
    assert "self.fc = nn.Linear(20, 16)" in compiled.source and "self.fc2 = nn.Linear(16, 5)" in compiled.source
    assert [i.name for i in compiled.inputs] == ["inp"] and compiled.analysis.outputs == ["oup"]
    assert compile_spec(Path("doc.md")).class_name == "TinyMLP"  # the file holds nothing but the parts
    assert compile_spec(Path("doc.md"), "TinyMLPEncoder+TinyMLPHead", name="Mlp").class_name == "Mlp"


@pytest.mark.parametrize(
    ("graph", "head_input", "expected"),
    [
        (
            "TinyMLPHead+TinyMLPEncoder",
            "[B, 16]",
            "doc.md:1:91: error: node 'hidden' is drawn in part TinyMLPHead (line 2) and in part TinyMLPEncoder; "
            "a shared tensor ends TinyMLPHead and starts TinyMLPEncoder, the parts in the order given [bad-parts]",
        ),
        (
            "TinyMLPEncoder+TinyMLPHead",
            "[B, 17]",
            "doc.md:2:23: error: node 'hidden' is drawn in part TinyMLPEncoder (line 1) and in part TinyMLPHead, "
            "declared [B, 16] there and [B, 17] here; a tensor passed on keeps its shape [bad-parts]",
        ),
    ],
)
def test_parts_that_do_not_hand_over_are_errors(tmp_path, monkeypatch, graph, head_input, expected):
    monkeypatch.chdir(tmp_path)
    parts_document(tmp_path, head_input)
    with pytest.raises(SpecError) as exc:
        compile_spec(Path("doc.md"), graph)
    assert expected in errors_of(exc)


def test_parts_that_share_an_op_or_nothing_are_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, linear("PartA", 4, 4), linear("PartB", 4, 4, first="x", last="y"))
    with pytest.raises(SpecError) as exc:
        compile_spec(Path("doc.md"), "PartA+PartB")
    assert errors_of(exc) == [
        "doc.md:2:51: error: node 'fc' is drawn in part PartA (line 1) and in part PartB; parts share only the "
        "tensors they pass on: rename one of them [bad-parts]",
        "doc.md:2:1: error: part PartB starts from no tensor an earlier part ends in: a part goes on from an earlier "
        "part's output, drawn with the same node id and shape [bad-parts]",
    ]


def test_parts_without_a_common_prefix_need_a_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, linear("Encoder", 20, 16, last="hidden"), linear("Head", 16, 5, first="hidden").replace("fc", "f2"))
    with pytest.raises(SpecError) as exc:
        compile_spec(Path("doc.md"), "Encoder+Head")
    assert errors_of(exc) == [
        "doc.md:1:1: error: --graph Encoder+Head: the parts' names share no prefix to name the model by; "
        "name it with --name NAME [bad-parts]"
    ]
    assert compile_spec(Path("doc.md"), "Encoder+Head", name="TinyMLP").class_name == "TinyMLP"
    with pytest.raises(SpecError) as exc:
        compile_spec(Path("doc.md"), "Encoder+Head", name="Head")
    assert errors_of(exc) == [
        "doc.md:1:1: error: the model would be named 'Head', the name of another digraph of the file (line 2): "
        "name it with --name NAME [bad-name]"
    ]


def test_cli_compiles_parts_with_a_name(tmp_path):
    path = parts_document(tmp_path)
    result = run_cli("compile", path, "--graph", "TinyMLPEncoder+TinyMLPHead", "--name", "Mlp", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("Mlp: 421 parameters on cpu\n")
    assert (tmp_path / "Mlp.py").is_file()
    bad = run_cli("compile", path, "--name", "no good", cwd=tmp_path)
    assert bad.code == 2 and "--name" in bad.stderr


def test_a_broken_digraph_in_a_dot_file_stops_only_itself(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, linear("A", 4, 2), 'digraph B { a [label="[B, 4]" }', linear("C", 4, 3), name="three.dot")
    assert printed(Path("three.dot")) == ["three.dot:2:31: error: expected an attribute name, found '}' [syntax-error]"]
    assert compile_spec(Path("three.dot"), "C").class_name == "C"
