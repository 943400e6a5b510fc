"""The camera list's order, kept between requests (docs/performance.md, "Camera list").

Sorting every visible camera by building, room and name, and counting them, was most of what the
camera list cost at 5,000 cameras (PostgreSQL joins and sorts every row to hand back 24). The list's
ids in order change only when a camera, room, building, share or operator does, so they are kept in
the cache under a key of everything the list is filtered by, and a *generation* token: any change to
one of those models (their signals, connected in devices/apps.py and sharing/apps.py) draws a new token,
so every kept order is forgotten at once, in this process and every other.

What the cache can get wrong is only the order and the count: the page's rows are fetched by the
caller with the user's visibility filter applied again, so an id kept from before a share was
cancelled or a camera moved out of a user's limit shows nothing. Writes that send no signals
(`QuerySet.update()`, `bulk_create()`, raw SQL) on those models must call `camera_list_changed()`;
a kept order also lapses after `KEEP_SECONDS` whatever happens.

A request reads the generation token once (`RequestGenerationMiddleware`): the camera list asks for it for
its building choices, its order and the menu's share badge, and each ask was a Redis round trip. A token
this process draws during the request replaces the one it read.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextvars import ContextVar

from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet

logger = logging.getLogger(__name__)

GENERATION_KEY = "camera-order:generation"
KEEP_SECONDS = 300
MAX_KEPT_IDS = 50_000  # beyond that a list is sorted by PostgreSQL each time rather than carried around
# A device's fields that its place in the list depends on; a save naming only others (a worker's trouble
# state, a heartbeat) keeps every order.
ORDER_FIELDS = frozenset({"name", "room", "room_id", "kind", "operator", "operator_id", "parent", "parent_id"})


def camera_list_changed() -> None:
    """Forget every kept camera order: now, and again once the running transaction commits (a request
    that read the old rows in between would otherwise keep them under the new token)."""
    _new_generation()
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(queued is _new_generation for _, queued, _ in connection.run_on_commit):
        return  # once a transaction is enough: deleting a building takes all its cameras' signals with it
    transaction.on_commit(_new_generation)


def _new_generation() -> str:
    token = secrets.token_hex(8)
    read = _read_this_request.get()
    try:
        cache.set(GENERATION_KEY, token, None)
    except Exception:  # noqa: BLE001 - a cache that is down keeps nothing either (ordered_ids reads around it)
        logger.warning("camera order: the cache did not take a new generation", exc_info=True)
        if read is not None:
            read.clear()  # the next ask goes to the cache again, and reads around it as it did
        return token
    if read is not None:
        read[:] = [token]
    return token


def _generation() -> str:
    """The generation token: from the cache, or from this request once it asked (raises what the cache raises)."""
    read = _read_this_request.get()
    if read:
        return read[0]
    token = cache.get(GENERATION_KEY) or _new_generation()
    if read is not None:
        read[:] = [token]
    return token


# The token this request read (an empty list until it asks); None outside a request: a worker's task and a
# shell ask the cache each time.
_read_this_request: ContextVar[list[str] | None] = ContextVar("camera_order_generation", default=None)


class RequestGenerationMiddleware:
    """Lets a request read the generation token once (settings MIDDLEWARE)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        reset = _read_this_request.set([])
        try:
            return self.get_response(request)
        finally:
            _read_this_request.reset(reset)


def ordered_ids(
    cameras: Callable[[], QuerySet], *, operator_id: int, scope, building_id: int | None, search: str
) -> tuple[int, ...]:
    """The ids of `cameras()` (the list's queryset, already filtered; built on a miss only) in its order,
    kept as the module says.
    `scope` is the user's camera limit (None: the operator's every camera); it and the other arguments
    name the list, so that two users with different limits never share a kept order.

    The process keeps the lists it read last as well: a list of 5,000 ids through Redis cost more than the
    rest of the lookup, and only the small generation token needs asking each time (a new one misses
    here as it misses in the cache)."""
    try:
        generation = _generation()
        key = _key(generation, operator_id, scope, building_id, search)
        kept = _kept_here(key)
        if kept is not None:
            return kept  # as kept: reading it again must not put off its lapse after KEEP_SECONDS
        ids = cache.get(key)
    except Exception:  # noqa: BLE001 - the list still answers, at the uncached cost
        logger.warning("camera order: the cache did not answer", exc_info=True)
        return tuple(cameras().values_list("pk", flat=True))
    if isinstance(ids, list | tuple):
        return _keep_here(key, ids)
    ids = list(cameras().values_list("pk", flat=True))
    if len(ids) <= MAX_KEPT_IDS:
        try:
            cache.set(key, ids, KEEP_SECONDS)
        except Exception:  # noqa: BLE001
            logger.warning("camera order: the cache did not keep a list", exc_info=True)
    return _keep_here(key, ids)


def kept(name: str, compute: Callable[[], Hashable], *, operator_id: int, scope) -> Hashable:
    """`compute()`, kept in this process under the generation token, for a small value (a tuple, a count)
    that depends only on the models whose changes draw a new token: the buildings a user may filter the
    list by, the share requests waiting for an operator. `name` and the other arguments name the value as
    they name a list (two users with different limits never share one). The cache down: computed each time.

    Unlike a list's order, a kept value is not checked again by the caller: keep only what a stale copy
    cannot make wrong beyond showing, until the next change, what the operator itself had a moment ago."""
    try:
        generation = _generation()
    except Exception:  # noqa: BLE001 - the page still answers, at the uncached cost
        logger.warning("camera order: the cache did not answer", exc_info=True)
        return compute()
    key = f"{name}:{_key(generation, operator_id, scope, None, '')}"
    found = _get(_values, key)
    if found is not None:
        return found
    value = compute()
    _put(_values, key, value, VALUES_KEPT_HERE)
    return value


_values: OrderedDict[str, tuple[float, Hashable]] = OrderedDict()
VALUES_KEPT_HERE = 512  # small values (a building's id and name each, a count) per process

_here: OrderedDict[str, tuple[float, tuple[int, ...]]] = OrderedDict()
_here_lock = threading.Lock()
KEPT_HERE = 32  # lists per process (5,000 ids are about 200 KB)


def _kept_here(key: str) -> tuple[int, ...] | None:
    return _get(_here, key)


def _keep_here(key: str, ids) -> tuple[int, ...]:
    ids = tuple(ids)
    if len(ids) <= MAX_KEPT_IDS:
        _put(_here, key, ids, KEPT_HERE)
    return ids


def _get(store: OrderedDict, key: str):
    """What `store` (a process's least-recently-used memo) keeps under `key`, or None once it lapsed."""
    with _here_lock:
        found = store.get(key)
        if found is None:
            return None
        if found[0] < time.monotonic():
            del store[key]
            return None
        store.move_to_end(key)
        return found[1]


def _put(store: OrderedDict, key: str, value, limit: int) -> None:
    with _here_lock:
        store[key] = (time.monotonic() + KEEP_SECONDS, value)
        store.move_to_end(key)
        while len(store) > limit:
            store.popitem(last=False)


def _key(generation: str, operator_id: int, scope, building_id: int | None, search: str) -> str:
    if scope is None:
        limit = "all"
    else:
        limit = "r" + ",".join(map(str, sorted(scope.room_ids))) + "c" + ",".join(map(str, sorted(scope.camera_ids)))
    named = f"{operator_id}|{limit}|{building_id or ''}|{search}"
    return f"camera-order:{generation}:{hashlib.sha256(named.encode()).hexdigest()}"


# ----------------------------------------------------------------------------- signal receivers


def on_device_saved(sender, instance, created=False, update_fields=None, raw=False, **kwargs) -> None:
    if created or update_fields is None or ORDER_FIELDS.intersection(update_fields):
        camera_list_changed()


def on_changed(sender, **kwargs) -> None:
    camera_list_changed()


def on_operator_saved(sender, instance, created=False, **kwargs) -> None:
    if created:
        camera_list_changed()
