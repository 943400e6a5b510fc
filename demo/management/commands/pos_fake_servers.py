"""Run the fake Ubiregi and Smaregi servers for the demo, with registers that keep selling.

    manage.py pos_fake_servers            # Ubiregi on :8701, Smaregi (both interfaces) on :8702, a sale every 20 s
    POS_UBIREGI_BASE_URL=http://127.0.0.1:8701 POS_SMAREGI_BASE_URL=http://127.0.0.1:8702 \\
    POS_SMAREGI_PLATFORM_API_URL=http://127.0.0.1:8702 POS_SMAREGI_PLATFORM_ID_URL=http://127.0.0.1:8702 \
    manage.py runserver

The credentials are demo/pos.py's (seed_demo links the demo cameras with them): Ubiregi accounts
31 (Demo Cafe) and its child 32, a pre-issued grant, and a consent page that accepts any login
(client portal-dev / portal-dev-secret); Smaregi API受信 Ver.2 contract `demo-contract`, access
token `demo-token`, terminals 1 and 2; Smaregi Platform API contract `demo-platform`, client
`demo-client` / `demo-client-secret`, terminal 1. Now and then a sale is voided (Smaregi) or
cancelled (Ubiregi), and some are paid by card or another method.
"""

import random
import threading
import time
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from demo import pos
from demo.pos_fakes import FakeSmaregi, FakeUbiregi


def seed(ubiregi: FakeUbiregi, smaregi: FakeSmaregi) -> None:
    ubiregi.add_account(pos.UBIREGI_ACCOUNT, "Demo Cafe", children=(pos.UBIREGI_CHILD,))
    ubiregi.add_account(pos.UBIREGI_CHILD, "Demo Cafe Terrace")
    ubiregi.grant(pos.UBIREGI_ACCOUNT, pos.UBIREGI_ACCESS_TOKEN, pos.UBIREGI_REFRESH_TOKEN, ttl=3650 * 86400)
    smaregi.add_contract(pos.SMAREGI_CONTRACT, pos.SMAREGI_TOKEN, terminals=("1", "2"))
    smaregi.add_contract(
        pos.SMAREGI_PLATFORM_CONTRACT,
        terminals=("1",),
        client_id=pos.SMAREGI_CLIENT_ID,
        client_secret=pos.SMAREGI_CLIENT_SECRET,
    )


def sell(ubiregi: FakeUbiregi, smaregi: FakeSmaregi, rng: random.Random) -> None:
    price = rng.choice([350, 550, 1200, 2800, 35000])
    paid = price + rng.choice([0, 0, 50, 450, 1000])
    at = timezone.now() - timedelta(seconds=rng.randint(1, 15))  # rung up a moment before it reached the server
    status = "cancel" if rng.random() < 0.1 else "close"
    ubiregi.add_checkout(
        rng.choice([pos.UBIREGI_ACCOUNT, pos.UBIREGI_CHILD]), price=price, paid=paid, status=status,
        payment_type_id=rng.choice([1, 1, 2, 3]), paid_at=at,
    )  # fmt: skip
    for contract in (pos.SMAREGI_CONTRACT, pos.SMAREGI_PLATFORM_CONTRACT):
        method = rng.choice(["cash", "cash", "card", "PayPay"])
        row = smaregi.add_transaction(
            contract, "1", total=price, deposit=paid if method == "cash" else price, method=method, at=at,
            staff_name=rng.choice(["Tanaka", "Sato", "Kimura"]),
        )  # fmt: skip
        if rng.random() < 0.1:
            smaregi.void(contract, row["transactionHeadId"], at=at + timedelta(seconds=30))


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
        self.stdout.write(f"POS_SMAREGI_BASE_URL={smaregi.url} (also the Platform API and its token host)")
        self.stdout.write(
            f"Smaregi API受信 contract {pos.SMAREGI_CONTRACT} / token {pos.SMAREGI_TOKEN}; Platform API contract "
            f"{pos.SMAREGI_PLATFORM_CONTRACT} / client {pos.SMAREGI_CLIENT_ID} / {pos.SMAREGI_CLIENT_SECRET}"
        )
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
