from rest_framework.routers import SimpleRouter

from .api import DeviceViewSet, RegistrationViewSet

router = SimpleRouter()
router.register("devices", DeviceViewSet, basename="device")
router.register("registrations", RegistrationViewSet, basename="registration")
urlpatterns = router.urls
