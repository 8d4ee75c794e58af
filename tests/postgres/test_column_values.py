"""Which columns a statement adds empty and which it needs values in, read with pglast."""

from __future__ import annotations

import pytest

from safemigrate.postgres.column_values import column_effects

T = "shop_order"


@pytest.mark.parametrize(
    ("sql", "emptied", "required"),
    [
        (f'ALTER TABLE "{T}" ADD COLUMN "total" numeric(10, 2) NULL', {(T, "total")}, set()),
        (
            f'ALTER TABLE "{T}" ADD COLUMN "total" numeric NOT NULL',
            {(T, "total")},
            {(T, "total")},
        ),
        (f'ALTER TABLE "{T}" ADD COLUMN "total" numeric DEFAULT 0 NOT NULL', set(), set()),
        (f'ALTER TABLE "{T}" ADD COLUMN "id2" bigint GENERATED ALWAYS AS IDENTITY', set(), set()),
        (f'ALTER TABLE "{T}" ALTER COLUMN "total" SET NOT NULL', set(), {(T, "total")}),
        (f'ALTER TABLE "{T}" ADD CONSTRAINT c CHECK ("total" IS NOT NULL)', set(), {(T, "total")}),
        (f'ALTER TABLE "{T}" ADD CONSTRAINT c CHECK ("total" IS NOT NULL) NOT VALID', set(), set()),
        (f'ALTER TABLE "{T}" ADD CONSTRAINT c CHECK ("total" > 0)', set(), set()),
        (f'ALTER TABLE "{T}" DROP COLUMN "total"', set(), set()),
    ],
)
def test_columns_emptied_and_required(sql, emptied, required):
    effects = column_effects(sql)
    assert (effects.emptied, effects.required) == (emptied, required)


def test_writes_are_noticed():
    assert column_effects(f'UPDATE "{T}" SET total = 1').written == {T}
    assert column_effects(f'INSERT INTO "{T}" (total) VALUES (1)').written == {T}
    assert column_effects("SELECT 1").written == set()
