"""API permission: any role of the operator may read; only admins may write."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .middleware import operator_for


class OperatorRolePermission(BasePermission):
    message = "Only administrators can change settings."

    def has_permission(self, request, view) -> bool:
        user = request.user
        # Token-authenticated requests have a user only now: resolve the operator from it, once.
        request._request.operator = operator_for(user)
        if request._request.operator is None:
            return False
        if request.method in SAFE_METHODS or getattr(view, "any_role_may_write", False):
            return True
        return user.is_admin
