"""``dotnet.load``, its cache, the import hook, and ``torch.save`` of a built model."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import dotnet  # noqa: E402
from dotnet import loading  # noqa: E402
from tests.conftest import REPO, SPECS, run_cli  # noqa: E402

CAE_FILES = ("ConvAutoEncoder.dot", "CAEConvBlock.dot", "CAEDeconvBlock.dot")
RESNET_FILES = ("ResNet18.dot", "ResNet18ConvBlock.dot", "ResNet18DownConvBlock.dot")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache of this test's own."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(loading.CACHE_ENV, str(folder))
    return folder


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The spec of every compile :func:`dotnet.load` runs (cache hits run none)."""
    seen: list[Path] = []
    real = loading.compile_spec

    def counting(spec, *args, **kwargs):
        seen.append(Path(spec))
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(loading, "compile_spec", counting)
    return seen


def _copy(names: tuple[str, ...], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(SPECS / name, folder / name)
    return folder


def _python(code: str, path: Path, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with ``path`` (and dotnet) importable."""
    env = {"PYTHONPATH": f"{path}:{REPO}", "DOTNET_CACHE_DIR": str(cwd / "other-cache"), "PATH": ""}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_load_returns_the_class_with_the_digraph_defaults(cache: Path) -> None:
    model_class = dotnet.load(SPECS / "ResNet18.dot")
    assert model_class.__name__ == "ResNet18" and model_class.__module__ == "ResNet18"
    model = model_class(n_classes=1000, in_c=3).eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 96, 96)).shape == (1, 1000)
    assert Path(sys.modules["ResNet18"].__file__).parent.parent == cache / "modules"


def test_load_compiles_once_and_again_when_a_block_file_changes(
    tmp_path: Path, cache: Path, compiles: list[Path]
) -> None:
    folder = _copy(RESNET_FILES, tmp_path / "specs")
    first = dotnet.load(folder / "ResNet18.dot")
    assert dotnet.load(folder / "ResNet18.dot") is first
    assert len(compiles) == 1

    residual = folder / "ResNet18ConvBlock.dot"
    residual.write_text(residual.read_text().replace("conv1 [label=", "// edited\n    conv1 [label="))
    dotnet.load(folder / "ResNet18.dot")
    assert len(compiles) == 2, "an edit of a block file must compile again"
    dotnet.load(folder / "ResNet18.dot")
    assert len(compiles) == 2


def test_load_compiles_again_when_the_spec_changes(tmp_path: Path, cache: Path, compiles: list[Path]) -> None:
    folder = _copy(RESNET_FILES, tmp_path / "specs")
    spec = folder / "ResNet18.dot"
    assert dotnet.load(spec)().fc.out_features == 10
    spec.write_text(spec.read_text().replace("NClasses=10", "NClasses=7"))
    assert dotnet.load(spec)().fc.out_features == 7
    assert len(compiles) == 2


def test_the_cache_outlives_the_process(tmp_path: Path, cache: Path, compiles: list[Path]) -> None:
    """A second process finds the first one's compile: the record and the module are on disk."""
    dotnet.load(SPECS / "LeNet.dot")
    code = f"""
        from pathlib import Path
        from dotnet import loading
        def refuse(*args, **kwargs):
            raise SystemExit("compiled again")
        loading.compile_spec = refuse
        print(loading.load(Path({str(SPECS / "LeNet.dot")!r})).__name__)
    """
    env = {"PYTHONPATH": str(REPO), "DOTNET_CACHE_DIR": str(cache)}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True)
    assert (proc.returncode, proc.stdout.strip()) == (0, "LeNet"), proc.stderr


def test_params_and_blocks_are_part_of_the_key(cache: Path) -> None:
    small = dotnet.load(SPECS / "LeNet.dot", params={"NClasses": 3})
    assert small().fc3.out_features == 3
    assert dotnet.load(SPECS / "LeNet.dot")().fc3.out_features == 10
    lstm = dotnet.load(SPECS / "TimeRNN.dot", blocks={"RNNCell": "LSTMCell"})
    assert sum(p.numel() for p in lstm().parameters()) == 52_362


def test_load_raises_spec_errors(tmp_path: Path, cache: Path) -> None:
    bad = tmp_path / "Bad.dot"
    bad.write_text('digraph Bad { a [label="[N, 4]", shape=Mrecord]; b [label="Nope"]; a -> b }')
    with pytest.raises(dotnet.SpecError) as info:
        dotnet.load(bad)
    assert [d.code for d in info.value.diagnostics] == ["unknown-op"]


def test_a_saved_model_loads_in_a_fresh_process_beside_the_compiled_file(tmp_path: Path, cache: Path) -> None:
    torch.manual_seed(0)
    model = dotnet.build(SPECS / "LeNet.dot").eval()
    torch.save(model, tmp_path / "lenet.pt")
    images = torch.randn(2, 1, 28, 28)
    torch.save(images, tmp_path / "images.pt")
    with torch.no_grad():
        torch.save(model(images), tmp_path / "expected.pt")
    generated = tmp_path / "generated"
    generated.mkdir()
    assert run_cli("compile", SPECS / "LeNet.dot", "-o", generated / "LeNet.py").code == 0

    proc = _python(
        """
        import torch
        model = torch.load("lenet.pt", weights_only=False)
        actual = model(torch.load("images.pt"))
        torch.testing.assert_close(actual, torch.load("expected.pt"), rtol=0, atol=0)
        print(type(model).__module__, type(model).__name__)
        """,
        generated,
        tmp_path,
    )
    assert (proc.returncode, proc.stdout.strip()) == (0, "LeNet LeNet"), proc.stderr


def test_a_saved_model_loads_in_a_process_that_loads_its_spec(tmp_path: Path, cache: Path) -> None:
    model = dotnet.build(SPECS / "ConvAutoEncoder.dot")
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    torch.save(model, tmp_path / "cae.pt")
    proc = _python(
        f"""
        import torch, dotnet
        dotnet.load({str(SPECS / "ConvAutoEncoder.dot")!r})
        model = torch.load("cae.pt", weights_only=False)
        weights = torch.load("weights.pt")
        assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
        print(sum(p.numel() for p in model.parameters()))
        """,
        tmp_path,
        tmp_path,
    )
    assert (proc.returncode, proc.stdout.strip()) == (0, "28905"), proc.stderr


def test_without_the_module_loading_fails_with_its_name(tmp_path: Path, cache: Path) -> None:
    """The documented condition is real: no generated module on the path, no model."""
    torch.save(dotnet.build(SPECS / "LeNet.dot"), tmp_path / "lenet.pt")
    proc = _python('import torch; torch.load("lenet.pt", weights_only=False)', tmp_path, tmp_path)
    assert proc.returncode != 0 and "No module named 'LeNet'" in proc.stderr


def test_the_import_hook_imports_a_folder_of_dot_files(tmp_path: Path, cache: Path) -> None:
    _copy(CAE_FILES, tmp_path / "diagrams")
    sys.path.insert(0, str(tmp_path))
    dotnet.install_import_hook()
    try:
        from diagrams import ConvAutoEncoder  # type: ignore[import-not-found]

        assert sum(p.numel() for p in ConvAutoEncoder().parameters()) == 28_905
        import diagrams  # type: ignore[import-not-found]

        assert dir(diagrams) == ["CAEConvBlock", "CAEDeconvBlock", "ConvAutoEncoder"]
        with pytest.raises(ImportError, match="cannot import name 'Missing'"):
            from diagrams import Missing  # type: ignore[import-not-found]  # noqa: F401
    finally:
        dotnet.uninstall_import_hook()
        sys.path.remove(str(tmp_path))
        sys.modules.pop("diagrams", None)


def test_without_the_hook_a_folder_of_dot_files_is_no_package_of_classes(tmp_path: Path) -> None:
    _copy(CAE_FILES, tmp_path / "diagrams2")
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(ImportError):
            from diagrams2 import ConvAutoEncoder  # type: ignore[import-not-found]  # noqa: F401
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("diagrams2", None)


@pytest.mark.parametrize(
    ("platform", "env", "expected"),
    [
        ("linux", {"XDG_CACHE_HOME": "/xdg"}, "/xdg/dotnet"),
        ("linux", {"XDG_CACHE_HOME": "relative"}, "~/.cache/dotnet"),
        ("linux", {}, "~/.cache/dotnet"),
        ("darwin", {}, "~/Library/Caches/dotnet"),
        ("win32", {"LOCALAPPDATA": "/local"}, "/local/dotnet/Cache"),
        ("linux", {"DOTNET_CACHE_DIR": "/mine", "XDG_CACHE_HOME": "/xdg"}, "/mine"),
    ],
)
def test_the_cache_follows_the_platform(
    platform: str, env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DOTNET_CACHE_DIR", "XDG_CACHE_HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "platform", platform)
    assert loading.cache_dir() == Path(expected).expanduser()


def test_an_unwritable_cache_still_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(loading.CACHE_ENV, str(blocked / "cache"))
    model = dotnet.build(SPECS / "LeNet.dot", params={"NClasses": 4})
    assert model.eval()(torch.zeros(1, 1, 28, 28)).shape == (1, 4)


def test_load_names_the_class_as_compile_name_does(cache: Path, compiles: list[Path]) -> None:
    """``name=`` is part of the cache key: each name its own class, each compiled once."""
    renamed = dotnet.load(SPECS / "LeNet.dot", name="DigitNet")
    plain = dotnet.load(SPECS / "LeNet.dot")
    assert (renamed.__name__, plain.__name__) == ("DigitNet", "LeNet")
    assert dotnet.load(SPECS / "LeNet.dot", name="DigitNet") is renamed
    assert compiles == [SPECS / "LeNet.dot"] * 2
    assert sum(p.numel() for p in renamed().parameters()) == 61_706
