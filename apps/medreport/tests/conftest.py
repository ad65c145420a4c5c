"""Fixtures shared by the medreport ASR tests."""

import pytest


@pytest.fixture
def one_torch_thread():
    """Run the test on one torch thread: the test machine's cores are shared, and two threads oversubscribe them."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
