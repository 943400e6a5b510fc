from django.urls import path

from . import views

app_name = "sharing"

urlpatterns = [
    path("", views.sharing_index_view, name="index"),
    path("request/", views.share_request_view, name="request"),
    path("history/", views.sharing_history_view, name="history"),
    path("audit/", views.sharing_audit_view, name="audit"),
    path("<int:share_id>/", views.share_detail_view, name="detail"),
    path("<int:share_id>/approve/", views.share_approve_view, name="approve"),
    path("<int:share_id>/decline/", views.share_decline_view, name="decline"),
    path("<int:share_id>/cancel/", views.share_cancel_view, name="cancel"),
    path("<int:share_id>/remove/", views.share_remove_view, name="remove"),
    path("limits/", views.limit_list_view, name="limits"),
    path("limits/<int:user_id>/", views.limit_edit_view, name="limit_edit"),
    path("limits/<int:user_id>/clear/", views.limit_clear_view, name="limit_clear"),
]
