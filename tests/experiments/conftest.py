"""The tiny data set and trained tiny model the run tests prune (one per test module, as module fixtures)."""

import pytest

from tests.tiny import tiny_data, trained_tiny_net


@pytest.fixture(scope="module")
def data():
    return tiny_data()


@pytest.fixture(scope="module")
def dense(data):
    return trained_tiny_net(data)
