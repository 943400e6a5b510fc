from rest_framework.routers import SimpleRouter

from .api import BuildingViewSet, RoomViewSet

router = SimpleRouter()
router.register("buildings", BuildingViewSet, basename="building")
router.register("rooms", RoomViewSet, basename="room")
urlpatterns = router.urls
