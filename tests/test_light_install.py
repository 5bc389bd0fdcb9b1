"""The core install: deepres with pyproject.toml's core dependencies alone trains on the
built-in digits, predicts and loads shipped weights by name; what needs an extra says which.

Installing torch into a new venv takes minutes, so the venv (created once per session, without
the system's site-packages) sees the distributions of the core dependencies and of everything
they require, linked from this environment, and deepres's source; none of the extras."""

import re
import subprocess
import tomllib
import venv
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
EXTRA_MODULES = ["onnx", "onnxruntime", "starlette", "uvicorn", "matplotlib", "tensorboard"]
EXTRA_MODULES += ["simplejpeg", "sklearn", "python_multipart", "onnxscript"]


def core_dependencies() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [re.split(r"[<>=!~ ;\[]", d)[0] for d in project["dependencies"]]


def _closure(names: list[str]) -> list[metadata.Distribution]:
    """The installed distributions of ``names`` and of what they require (no extras)."""
    seen, todo, found = set(), list(names), []
    while todo:
        name = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # required only on another platform
        found.append(dist)
        for requirement in dist.requires or []:
            if "extra ==" not in requirement and "Windows" not in requirement:
                todo.append(re.split(r"[<>=!~ ;\[]", requirement)[0])
    return found


@pytest.fixture(scope="session")
def core_python(tmp_path_factory):
    root = tmp_path_factory.mktemp("core-venv")
    venv.create(root / "venv", with_pip=False, symlinks=True)
    packages = root / "packages"
    packages.mkdir()
    (packages / "deepres").symlink_to(REPO / "src" / "deepres")
    for dist in _closure(core_dependencies()):
        for top in {Path(f.parts[0]) for f in dist.files or [] if not f.parts[0].startswith("..")}:
            source = Path(dist.locate_file(top))
            if source.exists() and not (packages / top).exists():
                (packages / top).symlink_to(source)
    (site,) = (root / "venv" / "lib").glob("python*/site-packages")
    (site / "core.pth").write_text(f"{packages}\n")
    return root / "venv" / "bin" / "python"


def _deepres(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python), "-m", "deepres", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )


def test_the_core_dependencies_are_the_six():
    assert sorted(core_dependencies()) == [
        "numpy",
        "pillow",
        "pyyaml",
        "safetensors",
        "torch",
        "tqdm",
    ]


@pytest.mark.slow
def test_core_alone_trains_predicts_and_loads_shipped_weights(core_python, tmp_path):
    code = "import importlib.util as u; print([m for m in %r if u.find_spec(m)])" % EXTRA_MODULES
    seen = subprocess.run([str(core_python), "-c", code], capture_output=True, text=True)
    assert seen.stdout.strip() == "[]", seen.stderr  # no extra is visible

    run = tmp_path / "run"
    trained = _deepres(core_python, "train", "--data", "digits", "--iterations", "2", "--out",
                       str(run), "--quiet", cwd=tmp_path)  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert "no curves.png for this run: pip install 'deepres[plots]'" in trained.stderr
    Image.fromarray(np.full((8, 8), 200, np.uint8)).save(tmp_path / "digit.png")
    predicted = _deepres(
        core_python, "predict", str(run), str(tmp_path / "digit.png"), cwd=tmp_path
    )
    assert predicted.returncode == 0 and "digit.png" in predicted.stdout, predicted.stderr

    Image.fromarray(np.full((32, 32, 3), 90, np.uint8)).save(tmp_path / "photo.png")
    shipped = _deepres(core_python, "predict", "resnet20-cifar10", str(tmp_path / "photo.png"),
                       "--json", cwd=tmp_path)  # fmt: skip
    assert shipped.returncode == 0, shipped.stderr
    assert len(shipped.stdout.splitlines()) == 1 and "probability" in shipped.stdout


@pytest.mark.slow
def test_a_missing_extra_is_named_in_one_line(core_python, tmp_path):
    for argv, extra in (
        (["export", "resnet20-cifar10", "--output", "r.onnx"], "export"),
        (["serve", "resnet20-cifar10"], "serve"),
    ):
        result = _deepres(core_python, *argv, cwd=tmp_path)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        assert f"pip install 'deepres[{extra}]'" in result.stderr
    assert not (tmp_path / "r.onnx").exists()
