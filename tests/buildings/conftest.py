"""Every test here registers into alpha, which holds camera licenses (tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def _licensed(alpha_licensed):
    return alpha_licensed
