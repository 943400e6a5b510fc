"""The error a service raises for bad input: a message the user can read, in their language."""

from django.core.exceptions import ValidationError

__all__ = ["ValidationError"]
