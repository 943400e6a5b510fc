"""The documented sample payloads the fakes answer with: tests/pos_link/fixtures/*.json, each
naming its public source. The fakes take a row of a fixture as the template of every row they
send, so their answers are the documented shape, not the client's idea of it."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "pos_link" / "fixtures"


@cache
def _load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def fixture(name: str) -> dict:
    """A fresh copy of tests/pos_link/fixtures/<name>.json."""
    return copy.deepcopy(_load(name))
