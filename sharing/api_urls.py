from rest_framework.routers import SimpleRouter

from .api import ShareAuditViewSet, ShareViewSet

router = SimpleRouter()
router.register("shares", ShareViewSet, basename="share")
router.register("share-audit", ShareAuditViewSet, basename="share-audit")
urlpatterns = router.urls
