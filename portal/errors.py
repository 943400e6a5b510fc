"""The error a service raises for bad input: a message the user can read, in their language; and how the API
answers one that what is stored refuses, not the request (`Conflict`, `is_conflict`)."""

from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException

__all__ = ["Conflict", "ValidationError", "is_conflict"]


class Conflict(APIException):
    """409: the request is well formed, but what is stored refuses it (a name or an email address already taken,
    a license already assigned). The body is the one a 400 would carry."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This conflicts with what is already registered.")
    default_code = "conflict"


def is_conflict(exc: ValidationError, conflicts: Collection[str] = ()) -> bool:
    """Whether every refusal in `exc` is a state conflict: its code ends in `_taken` (a contract number, a name,
    a MAC, an email address … already registered) or is one of the caller's `conflicts` (refused by what is
    stored). No schema can say that, so the API answers 409 for these, and 400 where any other refusal is among
    them. The codes must survive re-wrapping: keep `exc.error_list`, not `exc.messages`."""
    errors = [e for errors in exc.error_dict.values() for e in errors] if hasattr(exc, "error_dict") else exc.error_list
    return bool(errors) and all(str(e.code or "").endswith("_taken") or e.code in conflicts for e in errors)
