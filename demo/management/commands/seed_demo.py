"""Demo data: operators, users, buildings, rooms and cameras. Running it again changes nothing."""

from django.core.management.base import BaseCommand
from django.db import transaction

from buildings.models import Building, Room
from demo.congestion import seed_congestion
from demo.licensing import seed_licensing
from demo.pos import seed_pos
from demo.recording import seed_edge_recorder, seed_recording
from devices.models import Device, DeviceKind
from tenants.models import Operator, Role, User

DEMO_PASSWORD = "demo-Pass1"  # noqa: S105 - printed by the demo command, demo data only

DEMO = {
    "Demo Mansion Co.": {
        "users": [
            ("admin@demo.example", "Demo Admin", Role.ADMIN),
            ("viewer@demo.example", "Demo Viewer", Role.VIEWER),
        ],
        "buildings": {
            "Sakura Residence": [
                ("Entrance", "DEMO-0001", "Entrance camera", "02:00:5E:10:00:01"),
                ("Bicycle parking", "DEMO-0002", "Bicycle parking camera", "02:00:5E:10:00:02"),
            ],
            "Momiji Heights": [
                ("Garbage area", "DEMO-0003", "Garbage area camera", "02:00:5E:10:00:03"),
            ],
        },
    },
    "Harbor Shops Ltd.": {
        "users": [("admin@harbor.example", "Harbor Admin", Role.ADMIN)],
        "buildings": {
            "Harbor Mall": [("Main gate", "HARB-0001", "Main gate camera", "02:00:5E:20:00:01")],
        },
    },
}


class Command(BaseCommand):
    help = "Create the demo operators, accounts, buildings, rooms and cameras (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        for op_name, spec in DEMO.items():
            operator, _ = Operator.objects.get_or_create(name=op_name)
            for email, name, role in spec["users"]:
                if not User.objects.filter(email=email).exists():
                    User.objects.create_user(email, DEMO_PASSWORD, operator=operator, name=name, role=role)
            for building_name, rooms in spec["buildings"].items():
                building, _ = Building.objects.get_or_create(operator=operator, name=building_name)
                for room_name, contract, camera_name, mac in rooms:
                    room, _ = Room.objects.get_or_create(
                        operator=operator,
                        building=building,
                        name=room_name,
                        defaults={"contract_number": contract},
                    )
                    camera, created = Device.objects.get_or_create(
                        mac=mac,
                        defaults={"operator": operator, "room": room, "kind": DeviceKind.CAMERA, "name": camera_name},
                    )
                    if created:
                        Device.objects.create(
                            operator=operator,
                            room=room,
                            kind=DeviceKind.SENSOR,
                            name=f"{camera_name} sensor"[:64],
                            parent=camera,
                        )
        seed_edge_recorder()  # an NVR with two channels (cameras) in the first room
        seed_licensing(customer_names=list(DEMO), password=DEMO_PASSWORD)  # partner, stock, licenses for the cameras
        seed_recording()  # demo cameras record from the simulated RTSP camera
        seed_congestion()  # congestion cameras on the demo footage, 8 days of history
        seed_pos()  # POS options and links to the fake Ubiregi / Smaregi (both interfaces) of pos_fake_servers
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
