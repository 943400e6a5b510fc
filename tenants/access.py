"""The one way request-facing code reaches tenant-owned objects.

Every `access_*` function in the apps is a line or two over its app's list selector and
`get_visible_or_404` (in the spirit of healthchecks' `_get_check_for_user`): the selector says what
the user may see (own, shared to it, a partner's customers …), the door looks the id up inside it.
An object of another operator and an object that does not exist give the same `Http404`, so
nobody can probe for ids that belong to someone else. Write access is checked after the lookup, so an outsider
still sees 404 while a read-only member of the right operator gets 403.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from .models import Operator, User


def get_visible_or_404(visible: QuerySet, pk) -> Model:
    """The object with `pk` among `visible` (a selector's queryset of what the caller may see), else
    Http404, the same for a malformed id, a missing object and one the caller may not see.

    Security guarantee: never returns an object outside `visible`.
    """
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < pk < 2**63:
        raise Http404
    obj = visible.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def get_scoped_or_404(queryset: QuerySet, *, operator: Operator, pk) -> Model:
    """The object with `pk` inside `operator`'s part of `queryset`, else Http404.

    Security guarantee: never returns an object whose operator is not `operator`.
    """
    return get_visible_or_404(queryset.filter(operator=operator), pk)


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
