from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("users", api.UserViewSet, basename="api-user")
router.register("login-history", api.LoginHistoryViewSet, basename="api-login-history")

urlpatterns = [
    path("me/", api.MeView.as_view(), name="api-me"),
    path("terms/", api.TermsView.as_view(), name="api-terms"),
    *router.urls,
]
