"""Run the fake Ubiregi and Smaregi servers for the demo, with a register that keeps selling.

    manage.py pos_fake_servers            # Ubiregi on :8701, Smaregi on :8702, a sale every 20 s
    POS_UBIREGI_BASE_URL=http://127.0.0.1:8701 POS_SMAREGI_BASE_URL=http://127.0.0.1:8702 manage.py runserver

Demo credentials: Ubiregi consent page accepts any login (client portal-dev / portal-dev-secret);
Smaregi contract ID `demo-contract`, access token `demo-token`, terminals 1 and 2.
"""

import random
import threading
import time

from django.core.management.base import BaseCommand

from pos_link.fakes import FakeSmaregi, FakeUbiregi

DEMO_CONTRACT = "demo-contract"
DEMO_TOKEN = "demo-token"  # noqa: S105 - the fake's published demo token


def seed(ubiregi: FakeUbiregi, smaregi: FakeSmaregi) -> None:
    ubiregi.add_account("31", "Demo Cafe", children=("32",))
    ubiregi.add_account("32", "Demo Cafe Terrace")
    smaregi.add_contract(DEMO_CONTRACT, DEMO_TOKEN, terminals=("1", "2"))


def sell(ubiregi: FakeUbiregi, smaregi: FakeSmaregi, rng: random.Random) -> None:
    price = rng.choice([350, 550, 1200, 2800, 35000])
    paid = price + rng.choice([0, 0, 50, 450, 1000])
    status = "cancel" if rng.random() < 0.1 else "close"
    ubiregi.add_checkout(rng.choice(["31", "32"]), price=price, paid=paid, status=status)
    smaregi.add_transaction(
        DEMO_CONTRACT,
        rng.choice(["1", "2"]),
        total=price,
        deposit=paid,
        method=rng.choice(["cash", "cash", "credit"]),
        cancel=rng.random() < 0.1,
        staff_name=rng.choice(["Tanaka", "Sato", "Kimura"]),
    )


class Command(BaseCommand):
    help = "Run fake Ubiregi and Smaregi provider servers on loopback for the POS link demo."

    def add_arguments(self, parser):
        parser.add_argument("--ubiregi-port", type=int, default=8701)
        parser.add_argument("--smaregi-port", type=int, default=8702)
        parser.add_argument("--interval", type=float, default=20.0, help="seconds between demo sales (0: none)")
        parser.add_argument("--seconds", type=float, default=0.0, help="stop after this long (0: until Ctrl-C)")

    def handle(self, *args, **options):
        ubiregi = FakeUbiregi(port=options["ubiregi_port"])
        smaregi = FakeSmaregi(port=options["smaregi_port"])
        seed(ubiregi, smaregi)
        ubiregi.start()
        smaregi.start()
        self.stdout.write(f"POS_UBIREGI_BASE_URL={ubiregi.url}")
        self.stdout.write(f"POS_SMAREGI_BASE_URL={smaregi.url}")
        self.stdout.write(f"Smaregi contract ID {DEMO_CONTRACT}, access token {DEMO_TOKEN}, terminals 1 and 2")
        stop = threading.Event()
        rng = random.Random(8)
        started = time.monotonic()
        try:
            while not stop.is_set():
                if options["interval"] > 0:
                    sell(ubiregi, smaregi, rng)
                wait = options["interval"] if options["interval"] > 0 else 1.0
                if options["seconds"] and time.monotonic() - started + wait > options["seconds"]:
                    stop.wait(max(0.0, options["seconds"] - (time.monotonic() - started)))
                    break
                stop.wait(wait)
        except KeyboardInterrupt:
            pass
        finally:
            ubiregi.stop()
            smaregi.stop()
            self.stdout.write("stopped")
