"""Each chapter runs the way it runs on Colab: alone in an empty folder, with the package installed from
the repository rather than imported from the checkout.

This is the test suite's notebook run. A wheel is built from the checkout (as ``pip install
"inception @ git+<repository>"`` does on Colab), installed into a fresh virtual environment, and every
notebook is copied on its own into an empty temporary folder and run there top to bottom by nbval, with
that environment's Python and the folder as working directory. A chapter that reads a file of the
repository, imports from ``src/`` by path, or relies on the editable install fails here.

So that the test suite stays fast, the fresh environment does not download the third-party packages a
second time: a ``.pth`` file puts the development environment's ``site-packages`` on its path. Lines of a
``.pth`` file only add folders; they do not run the editable install's own ``.pth`` hook, so
``import inception`` finds the wheel (``test_inception_comes_from_the_wheel`` checks this).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
COLAB = "https://colab.research.google.com"
NOTEBOOK_TIMEOUT_S = 900

# Import names of the package's dependencies (pyproject.toml) where they differ from the distribution's.
IMPORT_NAMES = {"mermaid-py": "mermaid", "scikit-learn": "sklearn"}
# Installed on Colab and by the package's dependencies (numpy comes with torch, matplotlib, sklearn;
# scipy with scikit-learn).
ALSO_AVAILABLE = {"inception", "numpy", "scipy", "IPython", "mpl_toolkits"}  # scipy comes with scikit-learn
# Preinstalled on Colab but not a dependency of the book: only Colab-only cells (NBVAL_SKIP) may use them.
COLAB_ONLY = {"torchvision"}


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, **kwargs)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} failed ({result.returncode}):\n{result.stdout[-4000:]}\n"
                    f"{result.stderr[-4000:]}", pytrace=False)
    return result


@pytest.fixture(scope="session")
def colab_python(tmp_path_factory) -> Path:
    """The Python of a fresh virtual environment with the package installed from a wheel of the checkout."""
    work = tmp_path_factory.mktemp("colab")
    checkout = work / "checkout"
    checkout.mkdir()
    shutil.copy(ROOT / "pyproject.toml", checkout)
    for extra in ("README.md", "LICENSE"):
        if (ROOT / extra).exists():
            shutil.copy(ROOT / extra, checkout)
    shutil.copytree(ROOT / "src", checkout / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"))
    # Offline first, with this environment's setuptools; a fresh virtual environment's setuptools may be
    # too old to build wheels, and then pip builds in isolation, as it would on Colab.
    wheel_cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", work / "wheels", checkout]
    offline = subprocess.run([str(c) for c in wheel_cmd[:4] + ["--no-build-isolation", "--no-index"] + wheel_cmd[4:]],
                             capture_output=True, text=True, timeout=300)
    if offline.returncode != 0:
        _run(wheel_cmd, timeout=600)
    wheel = next((work / "wheels").glob("inception-*.whl"))

    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], timeout=120)
    python = venv / "bin" / "python"
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    ours = [p for p in dict.fromkeys([*site.getsitepackages(), sysconfig.get_paths()["purelib"]]) if Path(p).is_dir()]
    (purelib / "dev_site_packages.pth").write_text("".join(f"{p}\n" for p in ours))
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel],
         timeout=300)
    return python


def test_inception_comes_from_the_wheel(colab_python, tmp_path):
    code = ("import inception; from inception.exercises import exercises; print(inception.__file__); "
            "print(sorted({e.chapter for e in exercises()}))")
    where, chapters = _run([colab_python, "-c", code], cwd=tmp_path, timeout=300).stdout.split("\n")[:2]
    assert Path(where).is_relative_to(colab_python.parent.parent), where
    assert not Path(where).is_relative_to(ROOT), f"inception was imported from the checkout: {where}"
    expected = sorted(int(p.stem[2:]) for p in (ROOT / "src" / "inception" / "exercises").glob("ch[0-9][0-9].py"))
    assert chapters == str(expected), "the wheel lacks some chapters' exercise checkers"


def _kernel_environment() -> dict[str, str]:
    """The environment of a notebook's nbval run. Under ``pytest -n`` (xdist) two chapters run at once on
    this 2-core machine: each kernel starts with one thread (``OMP_NUM_THREADS``) instead of one per core,
    so that they do not fight for the cores; a chapter that sets its own threads keeps them."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    if os.environ.get("PYTEST_XDIST_WORKER"):
        env["OMP_NUM_THREADS"] = "1"
    return env


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_alone_like_on_colab(path, colab_python, tmp_path):
    """nbval re-executes the chapter, alone in an empty folder, and compares every stored output."""
    shutil.copy(path, tmp_path / path.name)
    result = subprocess.run(
        [str(colab_python), "-m", "pytest", "--nbval", "--nbval-current-env", "--nbval-sanitize-with",
         str(SANITIZE), "-p", "no:cacheprovider", "-q", "--no-header", "-rN", "--rootdir", str(tmp_path),
         path.name],
        cwd=tmp_path, capture_output=True, text=True, timeout=NOTEBOOK_TIMEOUT_S,
        env=_kernel_environment(),
    )
    if result.returncode != 0:
        pytest.fail(f"{path.name} does not run alone in an empty folder with the package installed from a "
                    f"wheel (nbval exit {result.returncode}):\n{result.stdout[-12000:]}\n{result.stderr[-3000:]}",
                    pytrace=False)
    assert re.search(r"\d+ passed", result.stdout), result.stdout[-2000:]


def _dependencies() -> list[str]:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def test_dependencies_leave_colabs_own_versions_alone():
    """Ranges, not pins: on Colab the package installs next to the runtime's torch instead of replacing it."""
    for requirement in _dependencies():
        assert not re.search(r"==|<", requirement), (
            f"pyproject.toml pins {requirement!r}: Colab would replace its own version; use a lower bound")


def _code(cell) -> str:
    # IPython magics and shell escapes are not Python.
    lines = cell.source.splitlines()
    return "\n".join(re.sub(r"^(\s*)[%!].*", r"\1pass", line) for line in lines)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_imports_only_what_colab_has_after_the_setup_cell(path):
    """The setup cell installs the package, which brings its dependencies: every import must be one of
    them, the standard library, or the package itself (or, in a Colab-only cell, what Colab preinstalls)."""
    names = {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0] for r in _dependencies()}
    allowed = {IMPORT_NAMES.get(n, n.replace("-", "_")) for n in names} | ALSO_AVAILABLE
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        usable = allowed | COLAB_ONLY if "NBVAL_SKIP" in cell.source else allowed
        for node in ast.walk(ast.parse(_code(cell))):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                assert top in usable or top in sys.stdlib_module_names, (
                    f"{path.name} imports {module}, which a fresh Colab runtime may lack and the setup cell does "
                    f"not install; add it to pyproject.toml's dependencies or do without it")


def _colab_link(path: Path) -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    repo = config["url"].removeprefix("https://github.com/").rstrip("/")
    return f"{COLAB}/github/{repo}/blob/{config.get('branch', 'main')}/notebooks/{path.name}"


def test_readme_lists_every_chapters_colab_link():
    readme = (ROOT / "README.md").read_text()
    missing = [_colab_link(p) for p in NOTEBOOKS if _colab_link(p) not in readme]
    assert not missing, "README.md lacks the Colab links:\n" + "\n".join(missing)
