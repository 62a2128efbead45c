"""Fixtures shared by the package's tests."""

import fcntl
import os

import pytest
import torch


def pytest_configure(config):
    """Under pytest-xdist the workers share this machine's two cores, so a test or chapter that times two
    threads runs beside another worker's job. There an OpenMP thread should sleep instead of spinning while
    it waits for the rest of its team (``OMP_WAIT_POLICY=PASSIVE``): spinning made chapter 12's two-thread
    timing cell take 36 s instead of 4. Timing only: no result changes. Set in the controller before the
    workers start, so that they, and the kernels and processes they start, inherit it."""
    distributed = config.getoption("dist", "no") != "no" and config.getoption("tx", None)
    if distributed and not os.environ.get("PYTEST_XDIST_WORKER") and "OMP_WAIT_POLICY" not in os.environ:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        config.add_cleanup(lambda: os.environ.pop("OMP_WAIT_POLICY", None))


@pytest.fixture(autouse=True)
def one_thread():
    """Every test runs on one thread: the package's tests use small models, which run fastest on one
    thread, and two threads that fight other jobs for the two cores can be ten times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def site_model(tmp_path_factory):
    """The draw-a-digit widget's network, as ``python -m inception.export`` makes it: (the .onnx file's
    bytes, the trained network). About 10–20 s of training, once per test session: the first xdist worker
    that needs it trains it, the others load what it saved."""
    from inception.export import digit_reader_onnx

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return digit_reader_onnx()
    # under xdist each worker's basetemp is <this session's folder>/popen-gwN: the parent is shared by the
    # session's workers only (without xdist the parent would be shared with earlier sessions: stale)
    shared = tmp_path_factory.getbasetemp().parent
    saved = shared / "site_model.pt"
    with (shared / "site_model.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if saved.is_file():
            return torch.load(saved, weights_only=False)
        made = digit_reader_onnx()
        torch.save(made, saved)
        return made


# Scheduling only (what is tested never changes): the slowest tests, with their rough seconds on the
# 2-core machine the book is built on, are dealt out longest first, each to the worker with the least so
# far. With --dist worksteal, worker k first receives the k-th of consecutive equal slices of the
# collection and later steals from the end of others' queues: each slice starts with its share of the
# slow tests.
COLAB = "test_notebook_runs_alone_like_on_colab"
SLOW_SECONDS = {f"{COLAB}[10_": 140, "test_every_page_in_a_browser": 55, f"{COLAB}[12_": 45, f"{COLAB}[04_": 40,
                "test_two_processes_learn_and_resume": 20, f"{COLAB}[11_": 15, "test_int8_network_keeps": 12,
                f"{COLAB}[09_": 10, f"{COLAB}[03_": 8, "test_draw_a_digit": 6}
# Session fixtures that cost seconds once per worker (building the book; training the widget's network):
# the tests that use them are dealt as one block, so that they start on one worker, which pays for the
# fixtures once, instead of two workers paying or one waiting on the other.
SHARED_SECONDS = {"built_site": 8, "site_model": 15}


def _seconds(item) -> int:
    return next((seconds for name, seconds in SLOW_SECONDS.items() if name in item.nodeid), 0)


def _shared(item) -> set[str]:
    return SHARED_SECONDS.keys() & set(getattr(item, "fixturenames", ()))  # fixtures' fixtures included


def _units(items) -> list[tuple[int, list]]:
    """The slow tests one by one, and the tests of the shared fixtures as one block (module by module, so
    that a module's own fixtures are made once): (seconds, tests), longest first."""
    block = sorted((item for item in items if _shared(item)),
                   key=lambda item: (item.nodeid.split("::")[0], -_seconds(item)))
    fixtures = set().union(*map(_shared, block))
    units = [(_seconds(item), [item]) for item in items if _seconds(item) and not _shared(item)]
    if block:
        units.append((sum(SHARED_SECONDS[name] for name in fixtures) + sum(map(_seconds, block)), block))
    return sorted(units, key=lambda unit: unit[0], reverse=True)


@pytest.hookimpl(trylast=True)  # after -k, -m and --deselect have dropped what does not run
def pytest_collection_modifyitems(config, items):
    workers = getattr(config, "workerinput", {}).get("workercount", 1)
    units = _units(items)
    dealt = {id(item) for _, tests in units for item in tests}
    rest = [item for item in items if id(item) not in dealt]
    queues, load = [[] for _ in range(workers)], [0] * workers
    for seconds, tests in units:
        k = load.index(min(load))
        queues[k] += tests
        load[k] += seconds
    ordered, remaining = [], len(items)
    for k in range(workers):
        size = remaining // (workers - k)  # how worksteal slices what is left
        fill = max(0, size - len(queues[k]))
        ordered += queues[k] + rest[:fill]
        rest, remaining = rest[fill:], remaining - len(queues[k]) - fill
    items[:] = ordered + rest


# Lines a test wants in the terminal summary (the site test's): under xdist they come from the workers.
WORKER_SUMMARIES: list[str] = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    WORKER_SUMMARIES.extend(getattr(node, "workeroutput", {}).get("summaries", []))


def pytest_terminal_summary(terminalreporter):
    for line in WORKER_SUMMARIES:
        terminalreporter.write_sep("-", "site test")
        terminalreporter.write_line(line)
