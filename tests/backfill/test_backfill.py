"""Backfills on a real table: exact results both ways, and the refusal to run in a transaction."""

from __future__ import annotations

from decimal import Decimal
from importlib import import_module
from itertools import pairwise

import pytest
from django.core.management.base import CommandError

from safemigrate.models import BackfillState, BackfillStatus, Statement
from tests.backfill.backfill_helpers import FAST, NAME, seed, state, table
from tests.conftest import run_safemigrate

pytestmark = pytest.mark.django_db(transaction=True)


def cents(price: str) -> int:
    return int(Decimal(price) * 100)


@pytest.mark.parametrize("scenario_name", ["backfill", "backfill_callable"])
def test_forwards_sets_every_filtered_row_once_and_backwards_undoes_it(
    scenario, settings, scenario_name
):
    settings.SAFEMIGRATE = FAST
    scenario(scenario_name)
    run_safemigrate("scenarioapp", "0001")
    seed(1000, preset_every=7)

    output = run_safemigrate("scenarioapp")

    for key, price, price_cents, touched, _ in table():
        if key % 7 == 0:
            assert (price_cents, touched) == (-1, 0), key
        else:
            assert (price_cents, touched) == (cents(price), 1), key
    done = state()
    assert done.status == BackfillStatus.DONE
    assert done.rows_done == 1000 - 1000 // 7
    assert done.high_water == 1000
    assert done.last_key == 1000
    assert done.batches > 5
    assert done.rows_estimated > 0
    assert done.run is not None
    assert f"backfill {NAME}: done" in output.out

    run_safemigrate("scenarioapp", "0001")

    # The reverse has no filter: it clears every row, where forwards set only the unset ones.
    for key, _, price_cents, touched, _ in table():
        assert (price_cents, touched) == (None, 0 if key % 7 else -1), key
    assert state("backwards").status == BackfillStatus.DONE
    assert not BackfillState.objects.filter(direction="forwards").exists()


def test_batches_grow_to_the_target_time_and_stay_under_the_maximum(scenario, settings):
    settings.SAFEMIGRATE = {**FAST, "BACKFILL_BATCH_SIZE": 10, "BACKFILL_MAX_BATCH_SIZE": 300}
    scenario("backfill_callable")
    run_safemigrate("scenarioapp", "0001")
    seed(1500)
    sizes = import_module("tests.scenarios.backfill_callable.0002_backfill_price_cents")
    sizes.BATCH_SIZES.clear()

    run_safemigrate("scenarioapp")

    assert sizes.BATCH_SIZES[0] == 10
    assert max(sizes.BATCH_SIZES) <= 300
    # A batch under the target time grows the next one, at most doubling it.
    assert all(b <= 2 * a for a, b in pairwise(sizes.BATCH_SIZES))
    assert max(sizes.BATCH_SIZES) > 10
    assert sum(sizes.BATCH_SIZES) == 1500


def test_statements_are_keyset_batches_and_never_offset(scenario, settings):
    settings.SAFEMIGRATE = FAST
    scenario("backfill")
    run_safemigrate("scenarioapp", "0001")
    seed(500)

    run_safemigrate("scenarioapp")

    sqls = list(
        Statement.objects.filter(migration__name="0002_backfill_price_cents").values_list(
            "sql", flat=True
        )
    )
    updates = [sql for sql in sqls if sql.startswith('UPDATE "scenarioapp_product"')]
    assert updates, sqls
    assert all('"id" > ' in sql and '"id" <= ' in sql for sql in updates[1:])
    assert not any("OFFSET" in sql.upper() for sql in sqls)


def test_an_empty_table_is_done_at_once(scenario, settings):
    settings.SAFEMIGRATE = FAST
    scenario("backfill")

    run_safemigrate("scenarioapp")

    assert state().status == BackfillStatus.DONE
    assert state().rows_done == 0


def test_refuses_to_run_in_an_atomic_migration(scenario, settings):
    scenario("backfill_atomic")
    run_safemigrate("scenarioapp", "0001")
    seed(10)

    with pytest.raises(CommandError) as raised:
        run_safemigrate("scenarioapp")

    message = str(raised.value)
    assert "Backfill on scenarioapp.product cannot run inside a transaction" in message
    assert "set `atomic = False` on the migration" in message
    assert all(row[2] is None for row in table())


def test_a_reverse_with_nothing_to_undo_is_done_at_once(scenario, settings):
    settings.SAFEMIGRATE = FAST
    scenario("backfill_noop")
    run_safemigrate("scenarioapp", "0001")
    seed(100)
    run_safemigrate("scenarioapp")

    output = run_safemigrate("scenarioapp", "0001")

    assert f"backfill {NAME}: done, nothing to do." in output.out
    assert state("backwards").status == BackfillStatus.DONE
    assert all(row[2] is not None for row in table())  # Nothing was undone.
