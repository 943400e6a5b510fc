from rest_framework.routers import SimpleRouter

from .api import BuildingViewSet, RegistrationViewSet, RoomViewSet

router = SimpleRouter()
router.register("buildings", BuildingViewSet, basename="building")
router.register("rooms", RoomViewSet, basename="room")
router.register("registrations", RegistrationViewSet, basename="registration")
urlpatterns = router.urls
