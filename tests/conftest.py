"""Fixtures shared by the package's tests."""

import fcntl
import os

import pytest
import torch


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


# The slowest tests (a chapter of training, the site in a browser), started first so that the other
# worker(s) of `pytest -n` run everything else meanwhile. Only the order changes, never what is tested.
SLOW_FIRST = ("10_training", "test_every_page_in_a_browser", "04_batch_normalization", "12_fast_and_small",
              "test_draw_a_digit", "test_two_processes_learn_and_resume", "11_inception_v3", "03_googlenet")


def _slowness(item) -> int:
    return next((i for i, name in enumerate(SLOW_FIRST) if name in item.nodeid), len(SLOW_FIRST))


def pytest_collection_modifyitems(config, items):
    items.sort(key=_slowness)  # stable: the rest keep their order
