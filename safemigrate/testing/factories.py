"""factory-boy for historical models: rows in the shape a past migration state had.

``create_batch`` builds rows with factory-boy's declarations and writes them with
``bulk_create`` in chunks, so a test can fill a table at the volume a backfill or a
constraint meets in production (tens of thousands of rows in a second or two) rather than
the three rows that prove nothing about batching.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.db.models import Model

NEEDS_FACTORY_BOY = (
    "safemigrate's factory helpers need factory-boy: pip install factory-boy "
    "(or pip install 'safemigrate[testing]')."
)


def model_factory(model: type[Model], database: str, **declarations: Any) -> Any:
    """Return a ``DjangoModelFactory`` subclass for ``model`` with ``declarations``.

    ``model`` is usually a historical model, from ``apps.get_model()`` of a migration state.
    """
    base = _factory_boy().DjangoModelFactory
    meta = type("Meta", (), {"model": model, "database": database})
    return type(f"{model.__name__}Factory", (base,), {"Meta": meta, **declarations})


def create_batch(
    model: type[Model], size: int, *, database: str, chunk: int = 1000, **declarations: Any
) -> int:
    """Insert ``size`` rows of ``model`` built from ``declarations``; return how many.

    Related rows are not built for each row (``bulk_create`` cannot save them): pass an
    existing object, or ``factory.Iterator`` over a queryset.
    """
    if size < 0 or chunk < 1:
        raise ValueError(f"size must be >= 0 and chunk >= 1, not {size} and {chunk}.")
    factory = model_factory(model, database, **declarations)
    manager = model._default_manager.db_manager(database)
    made = 0
    while made < size:
        rows = factory.build_batch(min(chunk, size - made))
        manager.bulk_create(rows)
        made += len(rows)
    return made


def _factory_boy() -> Any:
    try:
        return import_module("factory.django")
    except ImportError as error:
        raise ImportError(NEEDS_FACTORY_BOY) from error
