"""The command-line contract: what other tools and CI script against."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SPECS, run_cli


def test_compile_writes_graph_named_file_and_prints_summary(tmp_path):
    result = run_cli("compile", SPECS / "ConvAutoEncoder.dot", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "ConvAutoEncoder: 28,905 parameters on cpu",
        "  input  inp: (2, 3, 256, 256)",
        "  output oup: (2, 3, 256, 256)",
        "wrote ConvAutoEncoder.py",
    ]
    assert result.stderr == ""  # erratum 7 is kept as drawn, its warning silenced on the node
    assert (tmp_path / "ConvAutoEncoder.py").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["ConvAutoEncoder.py"]


def test_generated_file_needs_only_torch(tmp_path):
    run_cli("compile", SPECS / "ConvAutoEncoder.dot", "-o", tmp_path / "cae.py", cwd=tmp_path)
    code = (tmp_path / "cae.py").read_text()
    imports = sorted({ln.split()[1] for ln in code.splitlines() if ln.startswith(("import ", "from "))})
    assert imports == ["__future__", "torch"]
    probe = (
        "import sys; sys.modules['dotnet'] = None; sys.path.insert(0, '.'); "
        "import cae, torch; m = cae.ConvAutoEncoder().eval(); print(tuple(m(torch.zeros(1, 3, 256, 256)).shape))"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "(1, 3, 256, 256)"


def test_dotnet_script_and_module_entry_points_agree(tmp_path):
    script = shutil.which("dotnet", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the dotnet script is not installed in this environment")
    import subprocess

    specs = sorted(str(p) for p in SPECS.glob("*.dot"))
    via_script = subprocess.run([script, "check", *specs], capture_output=True, text=True)
    via_module = run_cli("check", *specs)
    assert via_script.returncode == via_module.code == 0
    assert via_script.stderr == via_module.stderr


def test_param_sets_constructor_defaults(tmp_path):
    out = tmp_path / "Block.py"
    result = run_cli(
        "compile", SPECS / "CAEConvBlock.dot", "-o", out, "--param", "BlockIn=4", "--param", "BlockOut=6", cwd=tmp_path
    )
    assert result.code == 0, result.stderr
    assert "def __init__(self, block_in: int = 4, block_out: int = 6) -> None:" in out.read_text()
    assert "  input  inp: (2, 4, 8, 8)" in result.stdout  # run-time dims take small even defaults
    assert "  output oup: (2, 6, 4, 4)" in result.stdout


def test_graph_choice_lists_the_digraphs(seed_document, tmp_path):
    result = run_cli("compile", seed_document, cwd=tmp_path)
    assert result.code == 1
    assert result.stderr.startswith(
        f"{seed_document}:1:1: error: the file holds 8 digraphs; pick one with --graph NAME: "
    )
    assert "ConvAutoEncoder (line 4)" in result.stderr and "[graph-choice]" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_unknown_graph_name(seed_document, tmp_path):
    result = run_cli("compile", seed_document, "--graph", "Nope", cwd=tmp_path)
    assert result.code == 1
    assert "error: --graph Nope: no digraph named 'Nope'; the file holds ConvAutoEncoder (line 4), " in result.stderr


def test_seed_document_finds_its_blocks_without_flags(seed_document, tmp_path):
    """ConvBlock is CAEConvBlock by ConvAutoEncoder's initials; UpConvBlock binds by shape, warned."""
    result = run_cli("compile", seed_document, "--graph", "ConvAutoEncoder", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert "ConvAutoEncoder: 28,905 parameters on cpu" in result.stdout
    source = (tmp_path / "ConvAutoEncoder.py").read_text()
    assert "self.conv1 = CAEConvBlock(block_in=3, block_out=16)" in source
    assert "self.upconv3 = CAEDeconvBlock(block_in=32, block_out=32)" in source
    lines = result.stderr.splitlines()
    assert (
        f"{seed_document}:4:583: warning: node 'upconv3': no digraph is named 'UpConvBlock3' or 'UpConvBlock'; "
        "called 'CAEDeconvBlock', the only digraph ending in 'Block' that fits here "
        "(say so with --block UpConvBlock=CAEDeconvBlock) [block-by-shape]"
    ) in lines
    assert [ln.split("node ")[1].split(":")[0] for ln in lines if "[block-by-shape]" in ln] == [
        "'upconv3'",
        "'upconv2'",
        "'upconv1'",
    ]
    assert not any("CAEConvBlock" in ln for ln in lines), "the initials rule binds ConvBlock silently"


def test_seed_document_compiles_with_the_suggested_bindings(seed_document, tmp_path):
    result = run_cli(
        "compile", seed_document, "--graph", "ConvAutoEncoder",
        "--block", "ConvBlock=CAEConvBlock", "--block", "UpConvBlock=CAEDeconvBlock", cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert "ConvAutoEncoder: 28,905 parameters on cpu" in result.stdout
    assert "warning: node 'featmap_d1': shape '[BatchSize, W=128, H=128, C=16' lacks its closing ']'" in result.stderr


def test_cuda_without_cuda_is_a_clear_error(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = run_cli("compile", SPECS / "ConvAutoEncoder.dot", "--device", "cuda", cwd=tmp_path)
    assert result.code == 1
    assert result.stderr.splitlines()[-1] == (
        "error: --device cuda: PyTorch finds no CUDA device on this machine (use --device cpu) [device]"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "BlockIn"], "'BlockIn' is not NAME=VALUE"),
        (["--param", "BlockIn=four"], "BlockIn: 'four' is not a whole number: write ASCII digits 0-9"),
        (["--block", "=X"], "'=X' is not NAME=VALUE"),
        (["--device", "tpu"], "'tpu' is not one of 'cpu', 'cuda'"),
        (["--frobnicate"], "No such option '--frobnicate'"),
    ],
)
def test_usage_errors_exit_2(args, message, tmp_path):
    result = run_cli("compile", SPECS / "CAEConvBlock.dot", *args, cwd=tmp_path)
    assert result.code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_param_names_the_symbols(tmp_path):
    result = run_cli("compile", SPECS / "CAEConvBlock.dot", "--param", "Blockin=3", cwd=tmp_path)
    assert result.code == 1
    assert (
        "error: --param Blockin=3: digraph CAEConvBlock has no symbol 'Blockin' "
        "(its symbols: BatchSize, BlockW, BlockH, BlockIn, BlockOut) [bad-param]"
    ) in result.stderr


@pytest.mark.parametrize(
    ("spec", "symbols"),
    [
        ("BottleneckDown", "BatchSize, BlockW, BlockH, BlockIn, BlockMid, Stride, BlockOut"),  # Bias=False
        ("DoubleConv", "BatchSize, BlockW, BlockH, BlockIn, BlockOut"),  # P=same, Bias=False
        ("DenseLayer", "BatchSize, BlockW, BlockH, In, GrowthRate"),  # Concat(dim=C)
    ],
)
def test_unknown_param_lists_only_size_symbols(spec, symbols, tmp_path):
    """Words that label arguments take (flags, padding modes, axis names) are not symbols."""
    result = run_cli("compile", SPECS / f"{spec}.dot", "--param", "Nope=1", cwd=tmp_path)
    assert result.code == 1
    assert f"has no symbol 'Nope' (its symbols: {symbols}) [bad-param]\n" in result.stderr


def test_missing_spec_file(tmp_path):
    result = run_cli("compile", tmp_path / "nope.dot", cwd=tmp_path)
    assert result.code == 1
    assert (
        result.stderr
        == f"{tmp_path / 'nope.dot'}:1:1: error: cannot read the file: No such file or directory [io-error]\n"
    )


def test_check_passes_on_the_shipped_specs():
    result = run_cli("check", *sorted(SPECS.glob("*.dot")), cwd=REPO)
    assert result.code == 0, result.stderr


def test_a_reader_that_leaves_early_ends_the_command_quietly():
    """``dotnet check specs/ | head -1``: exit 141 (SIGPIPE) and no "internal error"."""
    import subprocess

    process = subprocess.Popen(
        [sys.executable, "-m", "dotnet", "check", "--format", "json", str(SPECS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # the reader is gone before dotnet writes its first line
    stderr = process.stderr.read().decode()
    assert process.wait() == 141
    assert stderr == ""
