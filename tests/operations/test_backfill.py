"""The backfill operations as Django sees them: serialised, described, refused when misused."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from django.db import models
from django.db.migrations.writer import OperationWriter
from django.db.models import F, Q
from django.db.models.functions import Cast

from safemigrate.exceptions import ConfigurationError
from safemigrate.operations import Backfill, RunBackfill
from tests.backfill.backfill_helpers import ROOT


def to_cents(apps: Any, batch: Any) -> int:
    return int(batch.update(price_cents=F("price") * 100))


def clear(apps: Any, batch: Any) -> int:
    return int(batch.update(price_cents=None))


def round_trip(operation: Any) -> Any:
    """Write the operation as makemigrations would, then execute what was written."""
    text, imports = OperationWriter(operation, indentation=0).serialize()
    namespace: dict[str, Any] = {}
    exec("\n".join(sorted(imports)) + f"\nresult = {text.rstrip().rstrip(',')}", namespace)
    return namespace["result"]


@pytest.mark.parametrize(
    "operation",
    [
        Backfill("product", values={"price_cents": F("price") * 100}),
        Backfill(
            "product",
            values={"price_cents": Cast(F("price") * 100, models.BigIntegerField())},
            filter=Q(price_cents__isnull=True),
            reverse_values={"price_cents": None},
            reverse_filter=~Q(price_cents=None),
            key="sku",
        ),
        Backfill("product", values={"price_cents": 0}, reverse_values={}),
        RunBackfill("product", to_cents),
        RunBackfill("product", to_cents, clear, key="sku"),
        RunBackfill("product", to_cents, RunBackfill.noop),
    ],
)
def test_deconstruct_round_trips_through_the_migration_writer(operation):
    written = round_trip(operation)

    assert type(written) is type(operation)
    assert written.deconstruct() == operation.deconstruct()


def test_deconstruct_leaves_out_defaults():
    name, args, kwargs = Backfill("product", values={"price_cents": 1}).deconstruct()

    assert (name, args) == ("Backfill", [])
    assert kwargs == {"model_name": "product", "values": {"price_cents": 1}}


def test_reversible_only_when_a_reverse_is_given():
    assert not Backfill("product", values={"a": 1}).reversible
    assert Backfill("product", values={"a": 1}, reverse_values={}).reversible
    assert not RunBackfill("product", to_cents).reversible
    assert RunBackfill("product", to_cents, RunBackfill.noop).reversible


def test_describe_and_name_fragment():
    operation = Backfill("Product", values={"price_cents": 1}, filter=Q(price_cents=None))

    assert operation.describe() == (
        "Backfill price_cents of Product in batches where the filter matches"
    )
    assert operation.migration_name_fragment == "backfill_product"
    assert RunBackfill("product", to_cents).describe() == (
        "Run a Python function over product in batches"
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Backfill("product", values={}), "must set at least one field"),
        (lambda: Backfill("product", values=["price"]), "must be a dict of field name"),
        (lambda: Backfill("product", values={"a": 1}, filter="x"), "must be a Q object"),
        (lambda: Backfill("", values={"a": 1}), "model_name must be a model's name"),
        (lambda: RunBackfill("product", "code"), "must be a function of (apps, batch)"),
    ],
)
def test_bad_arguments_are_refused_with_an_example(make, message):
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


def test_makemigrations_check_is_quiet_for_the_example_project():
    # No database: makemigrations then only warns that it could not check the applied history,
    # which depends on whatever the demo database holds, and compares models with migrations.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout
