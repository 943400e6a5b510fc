"""Buildings (建物) and their rooms (部屋 = camera locations) with contract numbers."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import TenantModel


class Building(TenantModel):
    name = models.CharField(_("building name"), max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "name"], name="building_name_unique_per_operator"),
        ]
        verbose_name = _("building")
        verbose_name_plural = _("buildings")

    def __str__(self) -> str:
        return self.name


class Room(TenantModel):
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(_("room name"), max_length=100)
    # Given at installation (SPID / 契約番号). Unique inside an operator, which covers "in a building";
    # not checked across operators so that a registration attempt reveals nothing about others.
    contract_number = models.CharField(_("contract number"), max_length=32)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["building__name", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "contract_number"], name="room_contract_unique"),
            models.UniqueConstraint(fields=["building", "name"], name="room_name_unique_in_building"),
        ]
        verbose_name = _("room")
        verbose_name_plural = _("rooms")

    def __str__(self) -> str:
        return f"{self.building.name} / {self.name}"
