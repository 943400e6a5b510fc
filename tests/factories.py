"""factory_boy factories for bulk test data. Every object is created inside one operator."""

import factory

from buildings.models import Building, Room
from devices.models import Device, DeviceKind
from tenants.models import Operator, Role, User

PASSWORD = "Passw0rd-test!"


class OperatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Operator

    name = factory.Sequence(lambda n: f"Operator {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    operator = factory.SubFactory(OperatorFactory)
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Sequence(lambda n: f"User {n}")
    role = Role.ADMIN
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Building

    operator = factory.SubFactory(OperatorFactory)
    name = factory.Sequence(lambda n: f"Building {n}")


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    building = factory.SubFactory(BuildingFactory)
    operator = factory.SelfAttribute("building.operator")
    name = factory.Sequence(lambda n: f"Room {n}")
    contract_number = factory.Sequence(lambda n: f"C{n:08d}")


def _mac(n: int) -> str:
    return ":".join(f"{b:02X}" for b in (0x02, 0x00, (n >> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255))


class CameraFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    room = factory.SubFactory(RoomFactory)
    operator = factory.SelfAttribute("room.operator")
    kind = DeviceKind.CAMERA
    name = factory.Sequence(lambda n: f"Camera {n}")
    mac = factory.Sequence(_mac)


class SensorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    parent = factory.SubFactory(CameraFactory)
    room = factory.SelfAttribute("parent.room")
    operator = factory.SelfAttribute("parent.operator")
    kind = DeviceKind.SENSOR
    name = factory.Sequence(lambda n: f"Sensor {n}")
    mac = None


def counts() -> tuple[int, int, int]:
    """Buildings, rooms and devices in the whole database: 'nothing saved' means this is unchanged."""
    return Building.objects.count(), Room.objects.count(), Device.objects.count()
