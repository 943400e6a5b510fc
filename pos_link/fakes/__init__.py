"""Fake POS provider servers: real HTTP servers on loopback speaking the providers' documented
shapes, with switches for the faults polling must survive. Used by tests and by
`manage.py pos_fake_servers` for the demo. No Django models are touched here.
"""

from .server import FAULTS, FakeServer
from .smaregi import FakeSmaregi
from .ubiregi import FakeUbiregi

__all__ = ["FAULTS", "FakeServer", "FakeSmaregi", "FakeUbiregi"]
