"""Small things users reach for: compile --stdout/--no-run/--quiet, check --graph, shapes --param,
hints, every unknown op at once, constraint-breaking --param values, progress on a terminal."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from dotnet import compile_to_source
from dotnet.progress import Progress
from tests.conftest import REPO, SPECS, run_cli

TWO = """digraph Good {
    a [label="[B, N]", shape=Mrecord]
    r [label="Relu"]
    o [label="[B, N]", shape=Mrecord]
    a -> r -> o
}
digraph Bad {
    a [label="[B, N]", shape=Mrecord]
    r [label="Foo"]
    o [label="[B, M]", shape=Mrecord]
    a -> r -> o
}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- compile --stdout, --no-run, --quiet ------------------------------------------
def test_compile_stdout_prints_the_module_and_writes_no_file(tmp_path: Path) -> None:
    result = run_cli("compile", SPECS / "LeNet.dot", "--stdout", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert result.stdout == compile_to_source(SPECS / "LeNet.dot")
    assert result.stderr.splitlines() == [
        "LeNet: 61,706 parameters on cpu",
        "  input  inp: (2, 1, 28, 28)",
        "  output oup: (2, 10)",
    ]
    assert list(tmp_path.iterdir()) == []
    namespace: dict[str, object] = {}
    exec(compile(result.stdout, "LeNet.py", "exec"), namespace)  # the module a user would pipe to a file
    assert "LeNet" in namespace


def test_compile_stdout_and_output_file_together_are_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("compile", SPECS / "LeNet.dot", "--stdout", "-o", "x.py", cwd=tmp_path)
    assert result.code == 2
    assert "Error: --stdout and -o both say where the module goes: give one" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_compile_no_run_writes_the_module_without_torch(tmp_path: Path) -> None:
    """A torch that cannot be imported proves --no-run never imports it; a block needs no sizes."""
    shim = tmp_path / "shim"
    shim.mkdir()
    write(shim, "torch.py", "raise ImportError('torch is not installed here')\n")
    out = tmp_path / "out"
    out.mkdir()
    env = {"PYTHONPATH": f"{shim}{os.pathsep}{REPO}"}
    result = run_cli("compile", SPECS / "CAEConvBlock.dot", "--no-run", cwd=out, env=env)
    assert (result.code, result.stderr) == (0, "")
    assert result.stdout == "wrote CAEConvBlock.py (not imported, built or run: --no-run)\n"
    assert (out / "CAEConvBlock.py").read_text(encoding="utf-8") == compile_to_source(SPECS / "CAEConvBlock.dot")
    without = run_cli("compile", SPECS / "LeNet.dot", cwd=out, env=env)
    assert without.code == 1 and list(out.iterdir()) == [out / "CAEConvBlock.py"]


def test_compile_quiet_prints_nothing_but_writes(tmp_path: Path) -> None:
    result = run_cli("compile", SPECS / "LeNet.dot", "--quiet", cwd=tmp_path)
    assert (result.code, result.stdout, result.stderr) == (0, "", "")
    assert (tmp_path / "LeNet.py").is_file()


# -- check --graph -------------------------------------------------------------------
def test_check_graph_checks_only_that_digraph(tmp_path: Path) -> None:
    spec = write(tmp_path, "two.dot", TWO)
    assert run_cli("check", spec).code == 1
    good = run_cli("check", "--graph", "Good", spec)
    assert (good.code, good.stderr) == (0, "Success: no problems found (checked 1 file)\n")
    bad = run_cli("check", "--graph", "Bad", "two.dot", cwd=tmp_path)
    assert bad.code == 1
    assert bad.stderr.splitlines()[0].startswith("two.dot:9:5: error: node 'r': no op or block named 'Foo'")


def test_check_graph_that_is_not_there(tmp_path: Path) -> None:
    write(tmp_path, "two.dot", TWO)
    result = run_cli("check", "--graph", "Nope", "two.dot", cwd=tmp_path)
    assert result.code == 1
    assert result.stderr.splitlines() == [
        "two.dot:1:1: error: --graph Nope: no digraph named 'Nope'; the file holds Good (line 1), Bad (line 7) "
        "[graph-not-found]",
        "Found 1 error (checked 1 file)",
    ]


# -- shapes --param ----------------------------------------------------------------
def test_shapes_param_puts_values_in(tmp_path: Path) -> None:
    result = run_cli(
        "shapes", "CAEConvBlock.dot", "--param", "BlockW=64", "--param", "BlockH=32", "--param", "BlockIn=3",
        cwd=SPECS,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "digraph CAEConvBlock (CAEConvBlock.dot:4:1, BlockW=64, BlockH=32, BlockIn=3)"
    rows = {line.split()[0]: line for line in lines[2:8]}
    assert rows["inp"].endswith("[BatchSize, W=64, H=32, C=3]         (BatchSize, 3, 32, 64)")
    assert rows["oup"].endswith("[BatchSize, W=32, H=16, C=BlockOut]  (BatchSize, BlockOut, 16, 32)")


def test_shapes_without_param_stays_symbolic() -> None:
    result = run_cli("shapes", "CAEConvBlock.dot", cwd=SPECS)
    assert result.stdout.splitlines()[0] == "digraph CAEConvBlock (CAEConvBlock.dot:4:1)"
    assert "(BatchSize, BlockOut, BlockH/2, BlockW/2)" in result.stdout


# -- a --param value that breaks a constraint ------------------------------------------
@pytest.mark.parametrize("command", ["compile", "shapes", "summary"])
def test_odd_param_is_a_located_bad_param(command: str, tmp_path: Path) -> None:
    result = run_cli(command, SPECS / "CAEConvBlock.dot", "--param", "BlockW=7", "--param", "BlockIn=3", cwd=tmp_path)
    assert result.code == 1
    assert result.stderr.splitlines() == [
        f"{SPECS / 'CAEConvBlock.dot'}:18:5: error: node 'maxpool': the shapes need BlockW even, and with "
        "--param BlockW=7 it is not [bad-param]"
    ]
    assert list(tmp_path.iterdir()) == []


def test_a_broken_constraint_over_an_expression_says_its_value(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        "Pool.dot",
        'digraph Pool {\n  i [label="[B, W=X+2, H=8, C=3]", shape=Mrecord]\n  p [label="MaxPool2D[K=2, S=2]"]\n'
        '  o [label="[B, W=X/2+1, H=4, C=3]", shape=Mrecord]\n  i -> p -> o\n}\n',
    )
    result = run_cli("shapes", spec, "--param", "X=5")
    assert result.code == 1
    assert result.stderr.splitlines() == [
        f"{spec}:3:3: error: node 'p': the shapes need X even, and with --param X=5 it is not [bad-param]",
        f"{spec}:4:3: error: node 'o': the shapes need X+2 even, and with --param X=5 there it is 7 [bad-param]",
    ]


# -- hints and every unknown op -----------------------------------------------------
def test_a_tensor_label_drawn_as_a_box_is_read_as_a_tensor_with_a_warning(tmp_path: Path) -> None:
    """Issue 12: a label that is plainly a tensor is one, drawn as a box or not (``tensor-shape``)."""
    write(
        tmp_path,
        "Box.dot",
        'digraph Box {\n  a [label="[B, N]"]\n  r [label="Relu"]\n  o [label="[B, N]", shape=Mrecord]\n'
        "  a -> r -> o\n}\n",
    )
    result = run_cli("check", "Box.dot", cwd=tmp_path)
    assert result.code == 0
    assert result.stderr.splitlines()[0] == (
        "Box.dot:2:3: warning: node 'a': label '[B, N]' is a tensor but the node is not drawn shape=Mrecord; "
        "read as a tensor [tensor-shape]"
    )


def test_a_titled_tensor_label_drawn_as_a_box_is_read_as_a_tensor_too(tmp_path: Path) -> None:
    write(
        tmp_path,
        "Box.dot",
        'digraph Box {\n  a [label="输入\\n[B, N]"]\n  r [label="Relu"]\n  o [label="[B, N]", shape=Mrecord]\n'
        "  a -> r -> o\n}\n",
    )
    result = run_cli("check", "Box.dot", cwd=tmp_path)
    assert result.code == 0
    assert result.stderr.splitlines()[0].endswith(
        "node 'a': label '输入 [B, N]' is a tensor but the node is not drawn shape=Mrecord; "
        "read as a tensor [tensor-shape]"
    )


def test_an_op_label_that_is_no_tensor_gets_no_hint(tmp_path: Path) -> None:
    write(tmp_path, "Op.dot", 'digraph Op {\n  a [label="[B, N]", shape=Mrecord]\n  r [label="Relu +"]\n  a -> r\n}\n')
    assert "reads as a tensor" not in run_cli("check", "Op.dot", cwd=tmp_path).stderr


def test_every_unknown_op_on_a_path_is_reported_in_one_run(tmp_path: Path) -> None:
    write(
        tmp_path,
        "Chain.dot",
        'digraph Chain {\n  a [label="[B, N]", shape=Mrecord]\n  f [label="Foo"]\n  g [label="Relu"]\n'
        '  h [label="Bar"]\n  o [label="[B, N]", shape=Mrecord]\n  a -> f -> g -> h -> o\n}\n',
    )
    result = run_cli("check", "Chain.dot", cwd=tmp_path)
    assert [line.split(": error: ")[0] + " " + line.rsplit(" ", 1)[-1] for line in result.stderr.splitlines()[:-1]] == [
        "Chain.dot:3:3 [unknown-op]",
        "Chain.dot:5:3 [unknown-op]",
    ]
    assert "no op or block named 'Bar'" in result.stderr.splitlines()[1]


# -- progress ----------------------------------------------------------------------
class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_step_past_the_delay_says_what_it_does_and_how_long_it_took() -> None:
    screen = Terminal()
    with Progress(screen, enabled=True, delay=0).step("building VGG11 on cpu"):
        pass
    assert screen.getvalue().startswith("building VGG11 on cpu... done in ")
    assert screen.getvalue().endswith(" s\n")


def test_a_step_that_fails_ends_its_line() -> None:
    screen = Terminal()
    with pytest.raises(RuntimeError), Progress(screen, enabled=True, delay=0).step("running VGG11 once"):
        raise RuntimeError("out of memory")
    assert screen.getvalue() == "running VGG11 once... failed\n"


def test_a_step_shorter_than_the_delay_prints_nothing() -> None:
    screen = Terminal()
    with Progress(screen, enabled=True, delay=3600).step("building LeNet on cpu"):
        pass
    assert screen.getvalue() == ""


@pytest.mark.parametrize(
    "quiet,ci,stream,enabled",
    [
        (False, None, Terminal(), True),
        (True, None, Terminal(), False),
        (False, "true", Terminal(), False),
        (False, "false", Terminal(), True),
        (False, None, io.StringIO(), False),
    ],
)
def test_progress_only_on_a_terminal_outside_ci_and_not_quiet(
    quiet: bool, ci: str | None, stream: io.StringIO, enabled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    if ci is not None:
        monkeypatch.setenv("CI", ci)
    assert Progress.for_terminal(quiet, stream).enabled is enabled


def _on_a_terminal(args: list[str], cwd: Path) -> str:
    """What ``python -m dotnet ARGS`` shows on a pseudo-terminal, with progress after no delay."""
    return _python_on_a_terminal("from dotnet.cli import main; sys.exit(main())", args, cwd)


def _python_on_a_terminal(code: str, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """What Python running ``code`` shows on a pseudo-terminal, with progress after no delay."""
    controller, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "CI"} | (env or {})
    code = "import dotnet.progress as p, sys; p.DELAY = 0; " + code
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=cwd,
        env={**env, "PYTHONPATH": str(REPO)},
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert proc.wait(timeout=300) == 0, shown
    return shown.decode().replace("\r\n", "\n")


def test_compile_shows_its_steps_on_a_terminal(tmp_path: Path) -> None:
    lines = _on_a_terminal(["compile", str(SPECS / "LeNet.dot")], tmp_path).splitlines()
    steps = ["compiling LeNet.dot", "building LeNet on cpu", "running LeNet once"]
    assert [line.split("...")[0] for line in lines[:3]] == steps
    assert all(" done in " in line for line in lines[:3])
    assert lines[3:] == [
        "LeNet: 61,706 parameters on cpu",
        "  input  inp: (2, 1, 28, 28)",
        "  output oup: (2, 10)",
        "wrote LeNet.py",
    ]


def test_compile_quiet_shows_nothing_on_a_terminal(tmp_path: Path) -> None:
    assert _on_a_terminal(["compile", "--quiet", str(SPECS / "LeNet.dot")], tmp_path) == ""


BUILD = "import dotnet; dotnet.build(sys.argv[1], quiet=sys.argv[2] == 'quiet')"
LOAD = "import dotnet; dotnet.load(sys.argv[1], quiet=sys.argv[2] == 'quiet')"


def test_build_shows_its_steps_on_a_terminal(tmp_path: Path) -> None:
    lines = _python_on_a_terminal(BUILD, [str(SPECS / "LeNet.dot"), "-"], tmp_path).splitlines()
    assert [line.split("...")[0] for line in lines] == ["compiling LeNet.dot", "building LeNet on cpu"]
    assert all(" done in " in line for line in lines)


def test_load_shows_its_compile_on_a_terminal_and_nothing_from_the_cache(tmp_path: Path) -> None:
    cache = {"DOTNET_CACHE_DIR": str(tmp_path / "cache")}
    lines = _python_on_a_terminal(LOAD, [str(SPECS / "LeNet.dot"), "-"], tmp_path, cache).splitlines()
    assert [line.split("...")[0] for line in lines] == ["compiling LeNet.dot"]
    assert _python_on_a_terminal(LOAD, [str(SPECS / "LeNet.dot"), "-"], tmp_path, cache) == ""


@pytest.mark.parametrize("how", ["quiet", "CI"])
def test_build_is_quiet_with_quiet_or_in_ci(tmp_path: Path, how: str) -> None:
    env = {"CI": "true"} if how == "CI" else {}
    assert _python_on_a_terminal(BUILD, [str(SPECS / "LeNet.dot"), how], tmp_path, env) == ""


def test_build_is_quiet_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"PYTHONPATH": str(REPO)}
    code = "import sys, dotnet.progress as p; p.DELAY = 0; " + BUILD
    command = [sys.executable, "-c", code, str(SPECS / "LeNet.dot"), "-"]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0 and proc.stderr == ""
