"""Refusals other apps add to every login and every API token (the hook keeps tenants, the ground
floor, free of the apps above it).

An app registers a check from its AppConfig.ready(), which Django runs before any request:
`check(user) -> str`, '' when the user may go on, else the message the login page shows. The
licensing app registers the rule of the mailed temporary password (licensing/auth.py). The login
view refuses with the first message; API token authentication refuses, and revokes the user's
tokens, when any check refuses.
"""

from collections.abc import Callable

from .models import User

Check = Callable[[User], str]
_checks: list[Check] = []


def register(check: Check) -> None:
    if check not in _checks:
        _checks.append(check)


def refusal(user: User) -> str:
    """'' when every registered check lets `user` in; otherwise the first refusal's message."""
    for check in _checks:
        message = check(user)
        if message:
            return message
    return ""
