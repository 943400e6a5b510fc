"""Reads of accounts and login records, scoped to one operator."""

from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from .models import LoginHistory, Operator, User


def user_list(*, operator: Operator) -> QuerySet[User]:
    return User.objects.for_operator(operator).order_by("email")


def login_history_for(*, user: User) -> QuerySet[LoginHistory]:
    """Own history only, last 90 days."""
    since = timezone.now() - timedelta(days=settings.PORTAL_LOGIN_HISTORY_DAYS)
    return LoginHistory.objects.for_operator(user.operator).filter(user=user, at__gte=since)
