from rest_framework.routers import SimpleRouter

from .api import CustomerLicenseViewSet, PartnerCustomerViewSet, PartnerLicenseViewSet

router = SimpleRouter(use_regex_path=False)  # <int:license_id>: typed ids in the schema
router.register("partner/licenses", PartnerLicenseViewSet, basename="partner-license")
router.register("partner/customers", PartnerCustomerViewSet, basename="partner-customer")
router.register("licenses", CustomerLicenseViewSet, basename="license")
urlpatterns = router.urls
