"""The analysis settings, and the system checks that guard them (E020-E022)."""

from __future__ import annotations

import pytest

from safemigrate.checks import check_settings
from safemigrate.conf import conf


@pytest.mark.parametrize(
    ("setting", "value", "check_id"),
    [
        ("BASELINE", ["shop"], "safemigrate.E020"),
        ("BASELINE", {"shop": ""}, "safemigrate.E020"),
        ("SMALL_TABLE_ROWS", -1, "safemigrate.E021"),
        ("SMALL_TABLE_ROWS", "many", "safemigrate.E021"),
        ("HOT_TABLES", "shop_order", "safemigrate.E022"),
        ("HOT_TABLES", [1], "safemigrate.E022"),
    ],
)
def test_bad_values_are_reported_with_a_fix(settings, setting, value, check_id):
    settings.SAFEMIGRATE = {setting: value}
    (error,) = [message for message in check_settings() if message.id == check_id]
    assert f"SAFEMIGRATE['{setting}']" in error.msg
    assert "remove it to use the default" in error.hint


def test_defaults(settings):
    settings.SAFEMIGRATE = {}
    assert conf.baseline == {}
    assert conf.small_table_rows == 10_000
    assert conf.hot_tables == frozenset()
    assert check_settings() == []


def test_values(settings):
    settings.SAFEMIGRATE = {
        "BASELINE": {"shop": "0042_order_status"},
        "SMALL_TABLE_ROWS": 500,
        "HOT_TABLES": ["shop_order"],
    }
    assert conf.baseline == {"shop": "0042_order_status"}
    assert conf.small_table_rows == 500
    assert conf.hot_tables == frozenset({"shop_order"})
