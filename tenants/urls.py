from django.urls import path

from . import views

app_name = "tenants"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/verify/", views.two_factor_verify_view, name="two_factor_verify"),
    path("login/verify/resend/", views.two_factor_resend_view, name="two_factor_resend"),
    path("logout/", views.logout_view, name="logout"),
    # Everything under password/ stays reachable while a first-login password change is pending.
    path("password/change/", views.password_change_view, name="password_change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("terms/", views.terms_view, name="terms"),
    path("me/", views.account_view, name="account"),
    path("me/api-tokens/", views.api_token_create_view, name="api_token_create"),
    path("me/api-tokens/<int:token_id>/delete/", views.api_token_delete_view, name="api_token_delete"),
    path("users/", views.user_list_view, name="user_list"),
    path("users/add/", views.user_create_view, name="user_create"),
    path("users/<int:user_id>/edit/", views.user_edit_view, name="user_edit"),
    path("users/<int:user_id>/password/", views.user_password_view, name="user_password"),
    path("users/<int:user_id>/delete/", views.user_delete_view, name="user_delete"),
    path("invitation/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
]
