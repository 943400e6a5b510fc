"""The one way request-facing code reaches tenant-owned objects.

Every `access_*` function in the apps builds on `get_scoped_or_404`: an object of another
operator and an object that does not exist give the same `Http404`, so nobody can probe for
ids that belong to someone else. Write access is checked after the lookup, so an outsider
still sees 404 while a read-only member of the right operator gets 403.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from .models import Operator, User


def get_scoped_or_404(queryset: QuerySet, *, operator: Operator, pk) -> Model:
    """Return the object with `pk` inside `operator`'s part of `queryset`, else Http404.

    Security guarantee: never returns an object whose operator is not `operator`.
    """
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    obj = queryset.filter(operator=operator, pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def require_admin(user: User) -> None:
    """Raise PermissionDenied unless `user` holds the admin role of its operator."""
    if not user.is_authenticated or not user.is_admin:
        raise PermissionDenied(_("Only administrators can do this."))


def access_user(*, operator: Operator, user: User, pk, write: bool = False) -> User:
    """A user account of `operator`. Security guarantee: 404 for any account of another operator;
    403 for a non-admin asking for another account, or for any write."""
    target = get_scoped_or_404(User.objects.all(), operator=operator, pk=pk)
    if write or target.pk != user.pk:
        require_admin(user)
    return target
