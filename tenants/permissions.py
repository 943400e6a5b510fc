"""API permission: any role of the operator may read; only admins may write."""

from rest_framework.permissions import SAFE_METHODS, BasePermission


class OperatorRolePermission(BasePermission):
    message = "Only administrators can change settings."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and getattr(request, "operator", None) is not None):
            return False
        if request.method in SAFE_METHODS or getattr(view, "any_role_may_write", False):
            return True
        return user.is_admin
