"""REST API: a partner's stock, customers and assignment; a customer's licenses.

Every queryset comes from selectors scoped to `request.operator`; partner endpoints answer 404
to anyone who is not a partner (selectors.access_partner).
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from buildings.serializers import name_field
from portal.errors import Conflict, is_conflict
from tenants.access import require_admin
from tenants.serializers import RequestAnyOf, email_field, password_field

from . import selectors, services
from .models import License, LicenseKind

# Refusals by what is stored, not by the request (no schema can say what is in stock or already assigned):
# a 409 with the same body (portal.errors.Conflict). An email address already used ends in `_taken`.
ASSIGN_CONFLICTS = frozenset(
    {
        "stock_short",
        "not_in_stock",
        "wrong_kind",
        "renewal_count",
        "renewal_owner",
        "renewed_twice",
        "camera_direct_limit",
    }
)
EMAIL_CORRECTION_CONFLICTS = frozenset({"licenses_assigned", "no_account"})


def _api_error(exc: ValidationError, conflicts: frozenset[str] = frozenset()) -> ApiValidationError | Conflict:
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
    return Conflict(detail) if is_conflict(exc, conflicts) else ApiValidationError(detail)


class LicenseSerializer(serializers.ModelSerializer):
    state = serializers.SerializerMethodField()
    customer_id = serializers.IntegerField(read_only=True, allow_null=True)
    device_id = serializers.IntegerField(read_only=True, allow_null=True)
    device_name = serializers.CharField(source="device.name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = License
        fields = [
            "id", "kind", "term_months", "state", "customer_id", "assigned_at", "auto_assigned",
            "starts_on", "paid_from", "ends_on", "device_id", "device_name",
        ]  # fmt: skip

    def get_state(self, obj: License) -> str:
        return obj.state_on(selectors.today())


class CustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = name_field(max_length=200)
    email = email_field(write_only=True)
    temporary_password = password_field(required=False, allow_blank=True)
    created_at = serializers.DateTimeField(read_only=True)


class AssignSerializer(RequestAnyOf, serializers.Serializer):
    """The customer by id or by the email address of one of its accounts (the id wins when both are given)."""

    request_any_of = [{"required": ["customer_id"]}, {"required": ["customer_email"]}]  # one of them

    customer_id = serializers.IntegerField(required=False)
    customer_email = email_field(required=False)
    kind = serializers.ChoiceField(choices=LicenseKind.choices)
    term_months = serializers.IntegerField(min_value=1)
    count = serializers.IntegerField(min_value=1, max_value=1000, default=1)
    renews_id = serializers.IntegerField(required=False)


class EmailSerializer(serializers.Serializer):
    email = email_field()


class PartnerLicenseViewSet(viewsets.ReadOnlyModelViewSet):
    """The partner's licenses: stock (`?in_stock=1`) and assigned. POST `assign/` assigns from stock."""

    serializer_class = LicenseSerializer
    lookup_url_kwarg = "license_id"
    lookup_value_converter = "int"

    def get_queryset(self):
        partner = selectors.access_partner(operator=self.request.operator)
        qs = selectors.license_list(operator=partner).order_by("id")
        if self.request.query_params.get("in_stock") == "1":
            qs = qs.filter(customer__isnull=True)
        return qs

    def get_object(self):
        partner = selectors.access_partner(operator=self.request.operator)
        return selectors.access_license(operator=partner, user=self.request.user, pk=self.kwargs["license_id"])

    @action(detail=False, methods=["post"], serializer_class=AssignSerializer)
    def assign(self, request):
        partner = selectors.access_partner(operator=request.operator)
        data = AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if "customer_id" in v:
            customer = selectors.access_customer(partner=partner, user=request.user, pk=v["customer_id"], write=True)
        elif v.get("customer_email"):
            customer = selectors.customer_by_email(partner=partner, email=v["customer_email"])
            if customer is None:
                raise ApiValidationError(
                    {"customer_email": [_("None of your customers has an account with this email address.")]}
                )
        else:
            raise ApiValidationError({"customer_email": [_("Give the customer's email address (or customer_id).")]})
        require_admin(request.user)
        renews = None
        if v.get("renews_id"):
            renews = selectors.access_license(operator=partner, user=request.user, pk=v["renews_id"])
        try:
            ids = services.stock_pick(partner=partner, kind=v["kind"], months=v["term_months"], count=v["count"])
            assigned = services.license_assign(
                partner=partner, actor=request.user, customer=customer, license_ids=ids, kind=v["kind"], renews=renews
            )
        except ValidationError as exc:
            raise _api_error(exc, ASSIGN_CONFLICTS) from exc
        return Response(LicenseSerializer(assigned, many=True).data, status=status.HTTP_201_CREATED)


class PartnerCustomerViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = CustomerSerializer
    lookup_url_kwarg = "customer_id"
    lookup_value_converter = "int"

    def get_queryset(self):
        partner = selectors.access_partner(operator=self.request.operator)
        if query := self.request.query_params.get("search", ""):  # by account email or name
            return [customer for customer, _email in selectors.customer_search(partner=partner, query=query)]
        return selectors.customer_list(partner=partner)

    def get_object(self):
        return selectors.access_customer(
            partner=self.request.operator, user=self.request.user, pk=self.kwargs["customer_id"]
        )

    def create(self, request, *args, **kwargs):
        partner = selectors.access_partner(operator=request.operator)
        data = CustomerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            customer, _admin = services.customer_create(
                partner=partner,
                actor=request.user,
                name=data.validated_data["name"],
                email=data.validated_data["email"],
                temporary_password=data.validated_data.get("temporary_password") or None,
            )
        except ValidationError as exc:
            raise _api_error(exc) from exc
        return Response(CustomerSerializer(customer).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"], serializer_class=EmailSerializer)
    def email(self, request, customer_id=None):
        partner = selectors.access_partner(operator=request.operator)
        customer = selectors.access_customer(partner=partner, user=request.user, pk=customer_id, write=True)
        data = EmailSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = services.customer_email_correct(
                partner=partner, actor=request.user, customer=customer, email=data.validated_data["email"]
            )
        except ValidationError as exc:
            raise _api_error(exc, EMAIL_CORRECTION_CONFLICTS) from exc
        return Response({"email": user.email})


class CustomerLicenseViewSet(viewsets.ReadOnlyModelViewSet):
    """The licenses the caller's operator holds."""

    serializer_class = LicenseSerializer
    lookup_url_kwarg = "license_id"
    lookup_value_converter = "int"

    def get_queryset(self):
        return (
            selectors.license_list(operator=self.request.operator).filter(customer=self.request.operator).order_by("id")
        )

    def get_object(self):
        lic = selectors.access_license(
            operator=self.request.operator, user=self.request.user, pk=self.kwargs["license_id"]
        )
        if lic.customer_id != self.request.operator.pk:
            from django.http import Http404

            raise Http404
        return lic
