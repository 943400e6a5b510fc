"""Fake POS provider servers: real HTTP servers on loopback answering with the documented sample
payloads (tests/pos_link/fixtures/) and refusing what the real APIs refuse (a wrong procedure
name, a missing header, a range over 31 days), with switches for the faults polling must survive.
Used by the tests and by `manage.py pos_fake_servers` for the demo; production code never imports
them. No Django models are touched here.
"""

from .server import FAULTS, FakeServer
from .smaregi import FakeSmaregi
from .ubiregi import FakeUbiregi

__all__ = ["FAULTS", "FakeServer", "FakeSmaregi", "FakeUbiregi"]
