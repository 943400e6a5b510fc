from django.urls import path

from . import views

app_name = "tenants"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/change/", views.password_change_view, name="password_change"),
    path("me/", views.account_view, name="account"),
    path("users/", views.user_list_view, name="user_list"),
    path("invitation/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
]
