"""The runbook files each safe operation under the expand/contract phase it belongs to."""

from __future__ import annotations

import pytest
from django.db import models

from safemigrate import operations as safe
from safemigrate.review.impact import phase

FIELD = models.IntegerField(null=True)


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        (safe.AddFieldSafely("item", "n", FIELD), "expand"),
        (safe.AddIndexConcurrently("item", models.Index(fields=["n"], name="i")), "expand"),
        (
            safe.AddUniqueConstraintConcurrently(
                "item", models.UniqueConstraint(fields=["n"], name="u")
            ),
            "expand",
        ),
        (safe.RemoveFieldFromState("item", "n"), "contract"),
        (safe.RemoveFieldFromDatabase("item", "n", FIELD), "contract"),
        (safe.DeleteModelFromState("item"), "contract"),
        (safe.DeleteModelFromDatabase("t"), "contract"),
        (safe.DetachPartitionConcurrently("t", "t_1"), "contract"),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, str) else value,
)
def test_phase(operation: object, expected: str) -> None:
    assert phase(operation, []) == expected
