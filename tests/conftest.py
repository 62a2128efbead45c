"""Fixtures shared by the package's tests."""

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
