from django.urls import path

from . import views

app_name = "licensing"

urlpatterns = [
    path("", views.licenses, name="licenses"),
    path("<int:license_id>/move/", views.license_move, name="license_move"),
    path("proxy/end/", views.proxy_end, name="proxy_end"),
    path("partner/", views.partner_dashboard, name="partner"),
    path("partner/customers/", views.customer_list, name="customers"),
    path("partner/customers/add/", views.customer_add, name="customer_add"),
    path("partner/customers/<int:customer_id>/", views.customer_detail, name="customer_detail"),
    path("partner/customers/<int:customer_id>/email/", views.customer_email_correct, name="customer_email"),
    path("partner/customers/<int:customer_id>/proxy/", views.proxy_start, name="proxy_start"),
    path("partner/assign/", views.assign_choose, name="assign"),
    path("partner/assign/confirm/", views.assign_confirm, name="assign_confirm"),
    path("partner/licenses/<int:license_id>/renew/", views.license_renew, name="license_renew"),
    path("partner/history/", views.history, name="history"),
    path("partner/expiries/", views.expiries, name="expiries"),
]
