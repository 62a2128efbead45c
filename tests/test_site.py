"""The published site, opened page by page in a real browser.

The book is built with ``jupyter-book build`` (warnings are errors) into a temporary folder, served on
127.0.0.1, and every page is opened in headless Chromium (Debian's ``chromium``, driven by Playwright's
Python package; no browser is downloaded). The site stands alone: every request that leaves it (any
address but the site's own and ``file://``) is refused (a redirect off the site is seen), recorded, and
fails the test, so mermaid, MathJax and everything else must come from the built site
(``_ext/site_assets.py`` puts them there). No page refers to another host for a script, a stylesheet, a
font or an image. On every page:

* every mermaid diagram, those in hidden solutions included, renders to an SVG without "Syntax error";
* every formula is typeset by MathJax without a TeX error;
* every torchinfo table and every figure of the chapter's notebook is on the page, figures loaded;
* the browser logs no console error and no uncaught exception;
* every link within the site leads to a page that exists, and to an anchor on it that exists;
* a chapter's Colab launch button opens that chapter's notebook on the repository in ``_config.yml``;
* exercise solutions are hidden until their dropdown is clicked.

The search page finds a chapter. On chapter 12's page the draw-a-digit widget is drawn on with the mouse
and with a finger, and must read the drawing as the package's Python code does (``test_draw_a_digit``).
A chapter with diagrams and formulas is also opened from disk
(``file://``), as a reader offline would open it, and must render them too. Setup:
``bash .ci/setup_browser.sh``. Without Chromium or Playwright, the browser tests are skipped with a message
saying what is missing, except in CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import subprocess
import sys
import threading
from collections import Counter
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
import yaml

from inception.classroom import prose_solutions, solutions

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("INCEPTION_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# What a page may load from another host: nothing. Links (<a href>) are not loads and may go anywhere.
OUTSIDE_REFERENCE = re.compile(
    r"""<(?:script|img|iframe|audio|video|source|embed)\b[^>]*?\ssrc=["']?((?:https?:)?//[^"'\s>]+)"""
    r"""|<link\b(?=[^>]*\srel=["']?(?:stylesheet|preload|modulepreload|icon|shortcut icon|manifest))"""
    r"""[^>]*?\shref=["']?((?:https?:)?//[^"'\s>]+)"""
    r"""|url\(\s*["']?((?:https?:)?//[^"')\s]+)""", re.I)
COLAB = "https://colab.research.google.com"
TORCHINFO_TABLE = "Total params:"
SKIP_PAGES = {"genindex.html", "search.html"}
DIAGRAM_TIMEOUT_MS = 20_000
# Console errors of the site's third-party machinery that are known, harmless, and not ours to fix; each
# is matched exactly, so any other error still fails the test.
KNOWN_CONSOLE_ERRORS = {
    # Sphinx 7.4 adds sphinx-thebe's inline config script twice (the copy added while reading has filename
    # None, the one from the registry ""), so the second `const` is a redeclaration. The first copy runs.
    "uncaught exception: Identifier 'THEBE_JS_URL' has already been declared",
    # pydata-sphinx-theme reads the theme mode from localStorage, empty on a reader's first visit, logs
    # this and falls back to "auto", which is what it should do.
    "console error: Got invalid theme mode: . Resetting to auto.",
}

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return files


def _missing_tools() -> list[str]:
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the Python package playwright (pip install the version in requirements.txt)")
    if not CHROMIUM.exists():
        missing.append(f"Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    return missing


def _require_browser() -> None:
    missing = _missing_tools()
    if missing:
        message = ("the site test needs " + "; ".join(missing) + ". `bash .ci/setup_browser.sh` installs all "
                   "of them.")
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The book, built from the checkout into a temporary folder with warnings as errors."""
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [str(Path(sys.executable).with_name("jupyter-book")), "build", str(ROOT), "--path-output", str(out), "-W", "-n",
         "--keep-going"],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    if result.returncode != 0:
        log = result.stdout + result.stderr
        problems = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in log.splitlines()
                    if re.search(r"WARNING|ERROR|Error|Exception", line) and "Config(" not in line]
        pytest.fail(f"jupyter-book build -W -n failed ({result.returncode}):\n" + "\n".join(problems[:40])
                    + f"\n--- end of its output ---\n{log[-3000:]}", pytrace=False)
    html = out / "_build" / "html"
    assert (html / "index.html").exists(), f"no index.html in {html}"
    return html


def test_book_builds_without_warnings(built_site):
    pages = {p.relative_to(built_site).with_suffix("").as_posix() for p in built_site.rglob("*.html")}
    missing = [f for f in _toc_files() if Path(f).with_suffix("").as_posix() not in pages]
    assert not missing, f"pages of _toc.yml missing from the site: {missing}"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def _serve(directory: Path):
    """Serve ``directory`` on a free port of 127.0.0.1: yields the origin, ``http://127.0.0.1:PORT``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_QuietHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def served_site(built_site):
    with _serve(built_site) as origin:
        yield origin


class _Browser:
    """One Chromium for the test; every request that leaves the site is refused (or, a redirect, which
    Playwright does not route, seen) and recorded in ``outside``."""

    def __init__(self, origin: str) -> None:
        from playwright.sync_api import sync_playwright

        self.origin = origin
        self.outside: Counter[str] = Counter()  # URL -> how many times a page asked for it
        self._playwright = sync_playwright().start()
        self.browser = self._playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                                        headless=True)
        self.context = self.guard(self.browser.new_context(viewport={"width": 1280, "height": 900},
                                                           service_workers="block"))

    def inside(self, url: str) -> bool:
        return url.startswith((self.origin + "/", "file://")) or url == self.origin

    def guard(self, context):
        """In ``context``, refuse and record every request that leaves the site, WebSockets included, and
        record a redirect that leads off the site. Playwright's driver matches the pattern, so the site's
        own requests never reach this process."""
        context.route(re.compile(rf"^(?!{re.escape(self.origin)}(/|$)|file://)"), self._refuse)
        context.route_web_socket(re.compile(r"^wss?://"), self._refuse_socket)
        context.on("request", self._seen)
        return context

    def _refuse(self, route) -> None:
        self.outside[route.request.url] += 1
        route.abort("blockedbyclient")

    def _refuse_socket(self, socket) -> None:
        self.outside[socket.url] += 1
        socket.close()

    def _seen(self, request) -> None:
        if request.redirected_from is not None and not self.inside(request.url):
            self.outside[request.url] += 1  # a redirect is not routed: it left the site

    def close(self) -> None:
        self.context.close()
        self.browser.close()
        self._playwright.stop()


def _page_errors(page, origin: str) -> list[str]:
    errors: list[str] = []

    def on_console(message) -> None:
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        if message.text.startswith("Failed to load resource") and not where.startswith(origin):
            return  # a refused request to another host: recorded by _Browser, and fails the test
        if f"console error: {message.text}" not in KNOWN_CONSOLE_ERRORS:
            errors.append(f"console error: {message.text} ({where})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"uncaught exception: {error}")
            if f"uncaught exception: {error}" not in KNOWN_CONSOLE_ERRORS else None)
    page.on("requestfailed", lambda request: errors.append(f"failed request: {request.url}")
            if request.url.startswith(origin) else None)
    page.on("response", lambda response: errors.append(f"HTTP {response.status}: {response.url}")
            if response.status >= 400 and response.url.startswith(origin) else None)
    return errors


def _notebook_expectations(notebook: Path) -> dict[str, int]:
    """How many mermaid diagrams, torchinfo tables, figures and solutions the notebook has, as stored."""
    nb = nbformat.read(notebook, as_version=4)
    counts = Counter(solutions=len(solutions(nb)) + len(prose_solutions(nb)))
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            counts["diagrams"] += len(re.findall(r"^[ \t]*```+\s*\{?mermaid\}?", cell.source, re.M))
            continue
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            markdown = data.get("text/markdown", "")
            counts["diagrams"] += len(re.findall(r"^```+\s*\{?mermaid\}?", markdown, re.M))
            text = output.get("text", "") + data.get("text/plain", "")
            counts["tables"] += text.count(TORCHINFO_TABLE) if "text/markdown" not in data else 0
            counts["figures"] += int("image/png" in data or "image/svg+xml" in data or "image/jpeg" in data)
    return counts


JS_PAGE_FACTS = """() => {
  const visible = (el) => el.checkVisibility({opacityProperty: true, visibilityProperty: true})
                          && el.getBoundingClientRect().height > 0;
  return {
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    colab: [...document.querySelectorAll('a[href^="https://colab.research.google.com"]')].map(a => a.href),
    tables: [...document.querySelectorAll('.cell_output pre, .output pre')]
              .filter(pre => pre.textContent.includes('Total params:')).length,
    figures: [...document.querySelectorAll('.cell_output img, .output img')]
              .map(img => ({src: img.src, ok: img.complete && img.naturalWidth > 0})),
    diagrams: document.querySelectorAll('pre.mermaid, div.mermaid').length,
    solutions: [...document.querySelectorAll('div.solution')].map(s => ({
      id: s.id,
      shown: [...s.children].filter(c => !c.classList.contains('admonition-title'))
                            .some(c => visible(c)),
    })),
  };
}"""

JS_DIAGRAMS = """() => [...document.querySelectorAll('pre.mermaid, div.mermaid')].map(el => ({
  processed: el.getAttribute('data-processed') === 'true',
  failed: el.hasAttribute('data-mermaid-render-failed'),
  svg: !!el.querySelector('svg'),
  text: el.textContent.slice(0, 200),
  syntaxError: /Syntax error/i.test(el.textContent),
}))"""


JS_MATH = """async () => {
  if (!document.querySelector('.math')) return {formulas: 0, untypeset: [], errors: []};
  if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) return null;
  await MathJax.startup.promise;
  const formulas = [...document.querySelectorAll('span.math, div.math')];
  return {
    formulas: formulas.length,
    untypeset: formulas.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80)),
    errors: [...document.querySelectorAll('mjx-merror')].map(e =>
      (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 120)).concat(
      // MathJax draws an undefined macro as red text instead of failing
      [...document.querySelectorAll('mjx-assistive-mml mtext[mathcolor="red"]')].map(e =>
        'undefined macro ' + e.textContent)),
  };
}"""


def _math(page) -> dict | None:
    """Typeset formulas on the page, once MathJax (served by the site) has finished."""
    try:
        page.wait_for_function("() => !document.querySelector('.math') || (window.MathJax && MathJax.startup "
                               "&& MathJax.startup.promise)", timeout=DIAGRAM_TIMEOUT_MS)
    except Exception:  # noqa: BLE001 - reported by the caller
        return None
    return page.evaluate(JS_MATH)


def _open_solutions(page) -> None:
    """Click every solution dropdown open, as a reader would (a click scrolls its button into view and
    waits until the button is visible, still and not covered)."""
    for button in page.locator("div.solution button.toggle-button").all():
        button.click()


def _wait_for_diagrams(page) -> list[dict]:
    """Bring each diagram into view (hidden ones render when they become visible) and wait for it."""
    diagrams = page.locator("pre.mermaid, div.mermaid")
    for i in range(diagrams.count()):
        diagrams.nth(i).scroll_into_view_if_needed()
        try:
            page.wait_for_function(
                """(i) => { const el = document.querySelectorAll('pre.mermaid, div.mermaid')[i];
                          return el.getAttribute('data-processed') === 'true' && el.querySelector('svg')
                                 || el.hasAttribute('data-mermaid-render-failed'); }""",
                arg=i, timeout=DIAGRAM_TIMEOUT_MS)
        except Exception:  # noqa: BLE001 - reported below with the diagram's text
            if not page.evaluate("() => !!document.querySelector('.mermaid[data-processed]')"):
                break  # mermaid never ran on this page: no need to wait for each of the other diagrams
    return page.evaluate(JS_DIAGRAMS)


class _LinkChecker:
    def __init__(self, site: Path, origin: str) -> None:
        self.site, self.origin = site, origin
        self._ids: dict[Path, set[str]] = {}

    def _ids_of(self, path: Path) -> set[str]:
        if path not in self._ids:
            text = path.read_text(errors="replace") if path.suffix == ".html" else ""
            self._ids[path] = {unescape(m) for m in re.findall(r'\sid="([^"]+)"', text)}
        return self._ids[path]

    def broken(self, url: str) -> str | None:
        if not url.startswith(self.origin):
            return None
        parts = urlsplit(url)
        path = self.site / unquote(parts.path).lstrip("/")
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            return f"{url}: no such page"
        if parts.fragment and path.suffix == ".html" and unquote(parts.fragment) not in self._ids_of(path):
            return f"{url}: no anchor #{unquote(parts.fragment)}"
        return None


def _report(config, line: str) -> None:
    """Show ``line`` in pytest's terminal summary (visible without -s, in CI's log). Under pytest-xdist the
    summary is the controller's: a worker hands the line over in ``workeroutput`` (tests/conftest.py)."""
    if hasattr(config, "workeroutput"):
        config.workeroutput.setdefault("summaries", []).append(line)
        return

    class Reporter:
        def pytest_terminal_summary(self, terminalreporter):
            terminalreporter.write_sep("-", "site test")
            terminalreporter.write_line(line)

    config.pluginmanager.register(Reporter(), "inception-site-report")


def _site_pages(site: Path) -> list[Path]:
    """The site's HTML pages, less Sphinx's own folders and the generated index and search pages."""
    return sorted(p for p in site.rglob("*.html")
                  if p.relative_to(site).parts[0] not in ("_static", "_sources", "_images")
                  and p.name not in SKIP_PAGES)


def _redirect_target(path: Path, rel: str, origin: str) -> str | None:
    """The URL a redirect page (the site's index.html forwards to the first page) leads to, else None."""
    redirect = re.search(r'http-equiv="refresh"\s+content="\d+;\s*url=([^"]+)"', path.read_text(), re.I)
    if not redirect:
        return None
    return f"{origin}/{Path(rel).parent.as_posix()}/{redirect[1]}".replace("/./", "/")


def _colab_url(rel: str) -> str:
    """The Colab launch button's address for the page ``rel``, from the repository in ``_config.yml``."""
    repository = CONFIG["repository"]
    repo = repository["url"].removeprefix("https://github.com/").rstrip("/")
    branch = repository.get("branch", "main")
    return f"{COLAB}/github/{repo}/blob/{branch}/{Path(rel).with_suffix('.ipynb').as_posix()}"


def _check_solutions(page, rel: str, facts: dict) -> tuple[list[str], list[dict]]:
    """Solutions hidden until clicked, then shown: the problems, and the solutions after the click."""
    problems = [f"{rel}: solution {s['id']} is visible before it is clicked" for s in facts["solutions"] if s["shown"]]
    _open_solutions(page)
    try:  # the dropdowns' opening transitions, to their end
        page.wait_for_function(f"() => ({JS_PAGE_FACTS})().solutions.every(s => s.shown) && "
                               "document.getAnimations().every(a => a.playState !== 'running' "
                               "|| !a.effect?.target?.closest?.('div.solution'))", timeout=2000)
    except Exception:  # noqa: BLE001 - a solution that stays hidden is reported just below
        pass
    after = page.evaluate(JS_PAGE_FACTS)["solutions"]
    problems += [f"{rel}: solution {s['id']} stays hidden when clicked" for s in after if not s["shown"]]
    return problems, after


def _check_math(page, rel: str) -> tuple[list[str], int]:
    """Every formula typeset without a TeX error: the problems, and the number of formulas."""
    math = _math(page)
    if math is None:
        return [f"{rel}: MathJax did not load"], 0
    problems = [f"{rel}: formula not typeset: {m!r}" for m in math["untypeset"]]
    problems += [f"{rel}: TeX error in a formula: {m!r}" for m in math["errors"]]
    return problems, math["formulas"]


def _diagram_problems(rel: str, diagrams: list[dict]) -> list[str]:
    problems = []
    for d in diagrams:
        if d["syntaxError"] or d["failed"] or not (d["processed"] and d["svg"]):
            why = "syntax error" if d["syntaxError"] else "no SVG"
            problems.append(f"{rel}: a mermaid diagram did not render ({why}): {d['text'][:120]!r}")
    return problems


def _chapter_problems(rel: str, notebook: Path, found: dict[str, int], colab: list[str]) -> list[str]:
    """A chapter's page shows at least what its notebook holds, and its Colab button opens the notebook."""
    expected = _notebook_expectations(notebook)
    problems = [f"{rel}: the notebook has {expected[what]} {what}, the page shows {n}"
                for what, n in found.items() if n < expected[what]]
    if _colab_url(rel) not in colab:
        problems.append(f"{rel}: Colab button {colab or 'missing'}, expected {_colab_url(rel)}")
    return problems


def _check_page(page, rel: str, origin: str, links: _LinkChecker) -> tuple[list[str], Counter]:
    """Open the page ``rel`` and check it: the problems found, and what it holds (for the summary)."""
    errors = _page_errors(page, origin)
    page.goto(f"{origin}/{rel}", wait_until="load")
    problems, solutions_after = _check_solutions(page, rel, page.evaluate(JS_PAGE_FACTS))
    math_problems, formulas = _check_math(page, rel)
    diagrams = _wait_for_diagrams(page)
    problems += math_problems + _diagram_problems(rel, diagrams)
    facts = page.evaluate(JS_PAGE_FACTS)
    problems += [f"{rel}: figure not loaded: {f['src']}" for f in facts["figures"] if not f["ok"]]
    problems += [f"{rel}: broken link {b}" for b in filter(None, map(links.broken, set(facts["links"])))]
    found = {"diagrams": len(diagrams), "tables": facts["tables"], "figures": len(facts["figures"]),
             "solutions": len(solutions_after)}
    counts = Counter(pages=1, formulas=formulas, **found)
    notebook = ROOT / Path(rel).with_suffix(".ipynb")
    if notebook.exists():
        problems += _chapter_problems(rel, notebook, found, facts["colab"])
        counts["chapters"] += 1
    page.wait_for_timeout(100)  # late console errors
    return problems + [f"{rel}: {e}" for e in errors], counts


def _check_search(page, pages: list[Path], site: Path, origin: str) -> tuple[list[str], int]:
    """Search finds the first chapter by a word of its title: the problems, and the number of searches."""
    chapters = sorted(p for p in pages if (ROOT / p.relative_to(site).with_suffix(".ipynb")).exists())
    if not chapters:
        return [], 0
    target = chapters[0].relative_to(site).as_posix()
    title = nbformat.read(ROOT / Path(target).with_suffix(".ipynb"), as_version=4).cells[0].source
    word = max(re.findall(r"[A-Za-z]{5,}", title.splitlines()[0]), key=len)
    errors = _page_errors(page, origin)
    page.goto(f"{origin}/search.html?q={word}", wait_until="load")
    problems = []
    try:
        page.wait_for_selector("ul.search li a", timeout=20_000)
    except Exception:  # noqa: BLE001
        problems.append(f"search for {word!r} found nothing")
    found = page.eval_on_selector_all("ul.search li a", "as => as.map(a => a.href)")
    if not any(target in unquote(h) for h in found):
        problems.append(f"search for {word!r} does not find {target}: {found[:5]}")
    return problems + [f"search.html: {e}" for e in errors], 1


def _visit_pages(browser: _Browser, pages: list[Path], site: Path) -> tuple[list[str], Counter, dict[str, Counter]]:
    """Open and check every page: the problems, the totals, and what each page holds."""
    links = _LinkChecker(site, browser.origin)
    problems: list[str] = []
    totals: Counter = Counter()
    per_page: dict[str, Counter] = {}
    for path in pages:
        rel = path.relative_to(site).as_posix()
        target = _redirect_target(path, rel, browser.origin)
        if target:
            problems += [f"{rel}: broken redirect {b}" for b in filter(None, [links.broken(target)])]
            totals["redirects"] += 1
            continue
        page = browser.context.new_page()  # a fresh page each time: no listener or state carries over
        found, counts = _check_page(page, rel, browser.origin, links)
        page.close()
        problems += found
        totals.update(counts)
        per_page[rel] = counts
    return problems, totals, per_page


def _check_from_disk(browser: _Browser, site: Path, per_page: dict[str, Counter]) -> tuple[list[str], str]:
    """The page with the most diagrams (and formulas), opened from disk as a reader offline would: every
    diagram and formula renders there too. The problems, and what was checked (for the summary)."""
    candidates = [rel for rel, counts in per_page.items() if counts["diagrams"] and counts["formulas"]]
    if not candidates:
        return ["no page has both a mermaid diagram and a formula to open from disk"], "nothing"
    rel = max(candidates, key=lambda r: (per_page[r]["diagrams"], per_page[r]["formulas"]))
    where = f"{rel} (from disk)"
    page = browser.context.new_page()
    errors = _page_errors(page, "file://")
    page.goto((site / rel).as_uri(), wait_until="load")
    _open_solutions(page)
    problems, formulas = _check_math(page, where)
    diagrams = _wait_for_diagrams(page)
    problems += _diagram_problems(where, diagrams) + [f"{where}: {e}" for e in errors]
    page.close()
    return problems, f"{rel} opened from disk ({len(diagrams)} diagrams, {formulas} formulas)"


def _outside_references(site: Path) -> dict[str, set[str]]:
    """Addresses on other hosts that the site's pages or stylesheets would load (links are not loads)."""
    found: dict[str, set[str]] = {}
    for path in sorted([*site.rglob("*.html"), *site.rglob("*.css")]):
        text = path.read_text(errors="replace")
        if path.suffix == ".html":  # prose may quote `url(...)`; in HTML only tags load things
            text = re.sub(r"url\(", "url (", text)
        urls = {next(filter(None, m.groups())) for m in OUTSIDE_REFERENCE.finditer(text)}
        if urls:
            found[path.relative_to(site).as_posix()] = urls
    return found


def test_site_refers_to_no_other_host(built_site):
    """The pages and stylesheets load scripts, styles, fonts and images from the site only."""
    found = _outside_references(built_site)
    assert not found, "the site loads from other hosts:\n" + "\n".join(
        f"{where}: {sorted(urls)}" for where, urls in found.items())
    for script in ("_static/mermaid/mermaid.min.js", "_static/mathjax/tex-mml-chtml.js"):
        assert (built_site / script).is_file(), f"the site does not serve {script}"


def test_the_browser_refuses_what_leaves_the_site(served_site, built_site):
    """The guard the page tests rely on: requests to another server (here a second one that serves the same
    files, so that each would load if let through), by address or by name, to a CDN, and WebSockets are
    refused and recorded; the site's own requests go through."""
    _require_browser()
    image = next(built_site.rglob("*.png")).relative_to(built_site).as_posix()
    with _serve(built_site) as other:
        port = other.rsplit(":", 1)[1]
        outside = [f"{other}/{image}", f"http://localhost:{port}/{image}",
                   "https://cdn.jsdelivr.net/npm/mermaid/dist/mermaid.min.js"]
        images, socket, failures, refused = _ask_outside(served_site, built_site, outside, image)
    assert images == ["failed"] * len(outside) + ["loaded"] and socket == "closed", (images, socket)
    assert all((failures.get(url) or "").startswith("net::ERR_BLOCKED_BY_CLIENT") for url in outside), failures
    assert sorted(refused) == sorted([*outside, "ws://127.0.0.1:1/"]), dict(refused)


def _ask_outside(served_site: str, built_site: Path, outside: list[str], image: str):
    """From a page of the site, load each of ``outside`` and the site's own ``image`` as images, and open a
    WebSocket: what each image did, how the socket ended, why requests failed, what the guard recorded."""
    browser = _Browser(served_site)
    failures: dict[str, str | None] = {}
    try:
        page = browser.context.new_page()
        page.on("requestfailed", lambda request: failures.update({request.url: request.failure}))
        page.goto(f"{served_site}/{_site_pages(built_site)[0].relative_to(built_site).as_posix()}", wait_until="load")
        images = page.evaluate("""async (urls) => Promise.all(urls.map(u => new Promise(done => {
                                    const img = new Image();
                                    img.onload = () => done('loaded');
                                    img.onerror = () => done('failed');
                                    img.src = u; })))""", [*outside, f"{served_site}/{image}"])
        socket = page.evaluate("""() => new Promise(done => { const ws = new WebSocket('ws://127.0.0.1:1/');
                                    ws.onclose = () => done('closed'); })""")
    finally:
        browser.close()
    return images, socket, failures, browser.outside


def test_every_page_in_a_browser(served_site, built_site, request):
    _require_browser()
    pages = _site_pages(built_site)
    browser = _Browser(served_site)
    try:
        problems, totals, per_page = _visit_pages(browser, pages, built_site)
        found, searches = _check_search(browser.context.new_page(), pages, built_site, served_site)
        problems += found
        totals["searches"] += searches
        found, from_disk = _check_from_disk(browser, built_site, per_page)
        problems += found
    finally:
        browser.close()
    problems += [f"a page asked for another host ({n}x): {url}" for url, n in browser.outside.items()]

    summary = (f"site test: {totals['pages']} pages ({totals['chapters']} chapters), {totals['diagrams']} mermaid "
               f"diagrams, {totals['tables']} torchinfo tables, {totals['figures']} figures, "
               f"{totals['solutions']} hidden solutions, {totals['formulas']} formulas, {totals['searches']} search "
               f"checked; {from_disk}; requests that left the site: {sum(browser.outside.values())}")
    _report(request.config, summary)
    print(summary)
    assert not problems, f"{len(problems)} problems on the site:\n" + "\n".join(problems)
    assert totals["pages"] and totals["searches"], totals


# --- the draw-a-digit widget (chapter 12; book/_static/widget/draw_digit.js) --------------------------------

WIDGET = "#draw-digit"
SEVEN = [(50, 40), (180, 40), (100, 200)]  # pad pixels (224×224); brought to 24 px wide, the 1 to 20
ONE = [(118, 30), (112, 200)]


def _widget_page(site: Path) -> str:
    pages = [p for p in site.rglob("*.html") if 'id="draw-digit"' in p.read_text(errors="replace")]
    assert len(pages) == 1, f"expected the draw-a-digit widget on one page, found it on {pages}"
    return pages[0].relative_to(site).as_posix()


def _points(stroke: list[tuple[int, int]], steps: int = 10) -> list[tuple[float, float]]:
    """The stroke's polyline, sampled as a hand moving along it would be."""
    out = [stroke[0]]
    for (x0, y0), (x1, y1) in zip(stroke, stroke[1:], strict=False):
        out += [(x0 + (x1 - x0) * t / steps, y0 + (y1 - y0) * t / steps) for t in range(1, steps + 1)]
    return out


def _draw_with_mouse(page, stroke) -> None:
    box = page.locator(f"{WIDGET} canvas.dd-pad").bounding_box()
    points = [(box["x"] + x, box["y"] + y) for x, y in _points(stroke)]
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point)
    page.mouse.up()


def _draw_with_finger(page, stroke) -> None:
    """A touch stroke, as a phone sends it (Chrome DevTools Protocol touch events)."""
    box = page.locator(f"{WIDGET} canvas.dd-pad").bounding_box()
    points = [(box["x"] + x, box["y"] + y) for x, y in _points(stroke)]
    cdp = page.context.new_cdp_session(page)
    for i, (x, y) in enumerate(points):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart" if i == 0 else "touchMove",
                                              "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def _widget_result(page, runs_before: int) -> dict:
    """What the widget computed from the drawing, once it has classified it, and the pad's ink (alpha)."""
    page.wait_for_timeout(300)  # the stroke's last events reach the page
    # idle: the last classification started after the stroke's end, and none is pending
    page.wait_for_function(f"(s => s.runs > {runs_before} && s.idle)(document.querySelector('{WIDGET}').drawDigit)",
                           timeout=20000)
    state = page.evaluate(f"document.querySelector('{WIDGET}').drawDigit")
    state["alpha"] = page.evaluate(
        f"Array.from(document.querySelector('{WIDGET} canvas.dd-pad').getContext('2d')"
        ".getImageData(0, 0, 224, 224).data.filter((v, i) => i % 4 === 3))")
    state["status"] = page.locator(f"{WIDGET} .dd-status").inner_text()
    return state


def _python_reads(state: dict, trained) -> tuple[list[int], list[float], int]:
    """The Python side on the same drawing: the 8×8 image inception.drawing makes of the pad's ink, and the
    PyTorch network's probabilities for the 8×8 image the page fed its network."""
    import numpy as np
    import torch

    from inception.drawing import block_counts, fit_to_box
    from inception.export import digit_reader

    ink = np.array(state["alpha"], dtype=np.float64).reshape(224, 224) / 255
    counts = block_counts(fit_to_box(ink)).ravel().tolist()
    page_input = torch.tensor(state["counts"], dtype=torch.float32).reshape(1, 1, 8, 8)
    with torch.no_grad():
        probabilities = digit_reader(trained, fold=False)(page_input)[0][0]
    return counts, probabilities.tolist(), int(probabilities.argmax())


def _check_reading(state: dict, trained, how: str) -> list[str]:
    counts, probabilities, predicted = _python_reads(state, trained)
    problems = []
    if state["counts"] != counts:
        problems.append(f"{how}: the page's 8×8 image {state['counts']} is not inception.drawing's {counts}")
    worst = max(abs(a - b) for a, b in zip(state["probabilities"], probabilities, strict=True))
    if worst > 1e-4 or state["predicted"] != predicted:
        problems.append(f"{how}: the page reads {state['predicted']} with {state['probabilities']}, the PyTorch "
                        f"network {predicted} with {probabilities} (largest difference {worst:.2g})")
    if f"The network reads {predicted}" not in state["status"] or "All probabilities: 0:" not in state["status"]:
        problems.append(f"{how}: the probabilities are not written out as text: {state['status']!r}")
    if not sum(counts):
        problems.append(f"{how}: the stroke left no ink in the 8×8 image")
    return problems


def _check_accessibility(page) -> list[str]:
    labelled = page.evaluate(f"""[...document.querySelectorAll('{WIDGET} canvas')]
        .every(c => (c.getAttribute('aria-label') || '').length > 10)""")
    clear = page.locator(f"{WIDGET} button", has_text="Clear")
    live = page.locator(f"{WIDGET} [aria-live]")
    return [problem for ok, problem in (
        (labelled, "a canvas of the widget has no aria-label"),
        (clear.count() == 1, "the widget has no Clear button"),
        (live.count() == 1, "the widget's probabilities are not in a live region (aria-live)"),
    ) if not ok]


def test_draw_a_digit(served_site, built_site, site_model):
    """The widget on chapter 12's page reads a drawn digit as the book's Python code does: the same 8×8
    image (inception.drawing) and the same class and probabilities (within 1e-4) as the PyTorch network,
    with a mouse and with a finger, served from the site only, without console errors."""
    _require_browser()
    data, trained = site_model
    served = built_site / "_static" / "widget" / "digit_reader.onnx"
    assert served.read_bytes() == data, "the site serves another network than python -m inception.export makes"
    rel = _widget_page(built_site)
    browser = _Browser(served_site)
    try:
        context = browser.guard(browser.browser.new_context(viewport={"width": 1280, "height": 900},
                                                            has_touch=True, service_workers="block"))
        page = context.new_page()
        errors = _page_errors(page, served_site)
        page.goto(f"{served_site}/{rel}", wait_until="load")
        page.wait_for_selector(f'{WIDGET}[data-state="ready"]', timeout=60000)
        page.locator(f"{WIDGET} canvas.dd-pad").scroll_into_view_if_needed()
        problems = _check_accessibility(page)

        _draw_with_mouse(page, SEVEN)
        seven = _widget_result(page, 0)
        problems += _check_reading(seven, trained, "a 7 drawn with the mouse")

        page.locator(f"{WIDGET} button", has_text="Clear").click()
        cleared = page.evaluate(f"document.querySelector('{WIDGET}').drawDigit")
        if cleared["predicted"] is not None or "Draw a digit" not in page.locator(f"{WIDGET} .dd-status").inner_text():
            problems.append("Clear does not empty the pad and the reading")

        _draw_with_finger(page, ONE)
        one = _widget_result(page, seven["runs"])
        problems += _check_reading(one, trained, "a 1 drawn with a finger")
        problems += [f"{rel}: {e}" for e in errors]
        context.close()
    finally:
        browser.close()
    problems += [f"a page asked for another host ({n}x): {url}" for url, n in browser.outside.items()]
    assert not problems, "\n".join(problems)
    print(f"draw a digit: 7 (mouse) read as {seven['predicted']}, 1 (finger) read as {one['predicted']}")
