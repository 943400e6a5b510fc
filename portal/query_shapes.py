"""A query the ORM builds and compiles once per shape, then runs with the ids of each request.

The camera list's page of rows is one query: the user's visibility applied again, the room and
building names, the owner of a shared camera, the thumbnail time and the license state (five
subqueries). At 5,000 cameras the database answered it in 0.7 ms, but the ORM took about 2.5 ms to
build and compile it again on every request: a quarter of the page (docs/performance.md, "The camera
list's rows query").

`rows()` keeps, per process, the SQL of such a query under a key that names every input its SQL depends
on besides the ids (the operator, the user's camera limit, the filters, the licensing day: the caller
says which). The SQL is compiled with stand-in ids, whose places among the parameters are noted; a
request puts its own ids there and runs the same SQL. The SQL is the ORM's own, so what it filters is
exactly what the queryset filters: a kept shape is only a compilation saved, never a decision kept.

The rows come back as model instances, built as the ORM's own iterator builds them from the plan its
compiler made with the SQL: the selected fields (deferred ones load on access), the `select_related`
objects, and every annotation as an attribute, each value through the backend's converters. So a shape is
any queryset of the model; the user a session names, with its operator, is one (tenants/auth_backend.py).

On PostgreSQL the kept SQL is also a prepared statement of each connection (`PREPARE` once, then `EXECUTE`
with the request's parameters): planning the camera list's rows took 0.55-1.1 ms of the query's 1.5-2.2,
and PostgreSQL plans a prepared statement once it has seen a few runs of it. Statements live as long as
their connection (a new connection prepares again: `connection_created`); a deployment behind a pooler
that shares server connections between clients (PgBouncer in transaction mode) sets
`PORTAL_PREPARED_STATEMENTS = False` (docs/deployment.md). A statement PostgreSQL will not prepare (a
parameter whose type it cannot infer) runs as plain SQL, as everywhere else.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.backends.signals import connection_created
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.dispatch import receiver

logger = logging.getLogger(__name__)

SHAPES_KEPT = 256  # per process: a shape is a few KB of SQL
# Stand-in ids: far outside any id a database hands out (both SQLite and PostgreSQL take 64-bit integers).
_STAND_IN = -(2**62)

# (sql, params, places of the ids, the plan of its columns, its prepared statement's name)
_shapes: OrderedDict[Hashable, tuple] = OrderedDict()
_lock = threading.Lock()


def rows(
    model: type[Model],
    key: Hashable,
    ids: Sequence[int],
    build: Callable[[list[int]], QuerySet],
    using: str = "default",
) -> list:
    """The rows of `build(ids)` (a queryset of `model` on `using` that filters `pk__in` the ids it is
    given), as instances of `model`. `key` must name everything besides the ids that the queryset's SQL
    depends on."""
    ids = [int(pk) for pk in ids]
    if not ids:
        return []
    db = using
    shape_key = (db, connections[db].vendor, key, len(ids))
    with _lock:
        shape = _shapes.get(shape_key)
        if shape is not None:
            _shapes.move_to_end(shape_key)
    if shape is None:
        shape = _compile(model, build, len(ids), db)
        with _lock:
            _shapes[shape_key] = shape
            while len(_shapes) > SHAPES_KEPT:
                _shapes.popitem(last=False)
    sql, params, places, plan, name = shape
    params = list(params)
    for place, index in places:
        params[place] = ids[index]
    statement = _prepared(sql, name, len(params), db)
    with connections[db].cursor() as cursor:
        cursor.execute(statement, params)
        found = cursor.fetchall()
    return plan.instances(found, db)


class _Plan:
    """How the ORM's iterator (ModelIterable) turns a compiled query's rows into instances, taken from the
    compiler once: which columns are the model's fields, the related objects' populators, the annotations'
    columns and every column's converters. Nothing in it changes per row or per request."""

    def __init__(self, compiler, model: type[Model], db: str):
        select, klass_info = compiler.select, compiler.klass_info
        if klass_info["model"] is not model:
            raise ValueError(f"query_shapes: the queryset is of {klass_info['model'].__name__}, not {model.__name__}")
        fields = klass_info["select_fields"]
        self.model = model
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        self.related = get_related_populators(klass_info, select, db)
        self.annotations = tuple(compiler.annotation_col_map.items())
        self.width = compiler.col_count if compiler.has_extra_select else None
        self.converters = compiler.get_converters([column[0] for column in select[: compiler.col_count]])
        self.compiler = compiler  # apply_converters

    def instances(self, found: list, db: str) -> list:
        if self.width is not None:
            found = [row[: self.width] for row in found]
        if self.converters:
            found = self.compiler.apply_converters(found, self.converters)
        start, end, init_list, from_db = self.start, self.end, self.init_list, self.model.from_db
        result = []
        for row in found:
            instance = from_db(db, init_list, row[start:end])
            for populator in self.related:
                populator.populate(row, instance)
            for alias, column in self.annotations:
                setattr(instance, alias, row[column])
            result.append(instance)
        return result


def _compile(model: type[Model], build: Callable[[list[int]], QuerySet], count: int, db: str) -> tuple:
    stand_ins = [_STAND_IN - i for i in range(count)]
    queryset = build(stand_ins)
    compiler = queryset.query.get_compiler(db)
    sql, params = compiler.as_sql()  # also fills in the compiler's plan of the columns (select, klass_info)
    index_of = {pk: i for i, pk in enumerate(stand_ins)}
    places = tuple((place, index_of[p]) for place, p in enumerate(params) if type(p) is int and p in index_of)
    if sorted(i for _, i in places) != list(range(count)):
        # Each stand-in must appear exactly once among the parameters, or the ids could not be put back.
        raise ValueError("query_shapes: the queryset does not filter pk__in the ids it was given, once")
    name = "portal_shape_" + hashlib.sha256(sql.encode()).hexdigest()[:24]
    return sql, tuple(params), places, _Plan(compiler, model, db), name


_PLACEHOLDER = re.compile(r"%[s%]")
_unpreparable: set[str] = set()  # statements PostgreSQL refused to prepare: run as plain SQL from then on


def _prepared(sql: str, name: str, count: int, db: str) -> str:
    """`sql` itself, or on PostgreSQL `EXECUTE` of it as this connection's prepared statement `name` (prepared
    here the first time), taking the same `count` parameters (one or more: the ids)."""
    connection = connections[db]
    if connection.vendor != "postgresql" or not settings.PORTAL_PREPARED_STATEMENTS:
        return sql
    if name in _unpreparable:
        return sql
    connection.ensure_connection()
    prepared = connection.__dict__.setdefault("portal_prepared", set())
    if name not in prepared:
        numbered = iter(range(1, count + 1))
        statement = _PLACEHOLDER.sub(lambda m: "%" if m.group() == "%%" else f"${next(numbered)}", sql)
        try:
            with transaction.atomic(using=db), connection.cursor() as cursor:  # a savepoint inside a transaction
                cursor.execute(f"PREPARE {name} AS {statement}")  # no parameters: nothing for psycopg to fill in
        except DatabaseError:
            logger.warning("query_shapes: PostgreSQL did not prepare a shape; it runs as plain SQL", exc_info=True)
            _unpreparable.add(name)
            return sql
        prepared.add(name)
    return f"EXECUTE {name}({', '.join(['%s'] * count)})"


@receiver(connection_created)
def _new_connection(sender, connection, **kwargs) -> None:
    connection.__dict__["portal_prepared"] = set()  # a new server session has no statement prepared yet


def forget() -> None:
    """Drop every kept shape (tests; a deployment never needs it: a shape is a pure function of its key)."""
    with _lock:
        _shapes.clear()
