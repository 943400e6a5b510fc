from rest_framework.routers import SimpleRouter

from .api import PosLinkViewSet, PosTransactionViewSet

router = SimpleRouter(use_regex_path=False)  # <int:link_id>: typed ids in the schema
router.register("pos/links", PosLinkViewSet, basename="pos-link")
router.register("pos/transactions", PosTransactionViewSet, basename="pos-transaction")
urlpatterns = router.urls
