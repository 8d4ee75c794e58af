"""Every bad setting is caught by a system check that names the setting and the fix."""

from __future__ import annotations

import pytest

from safemigrate.checks import (
    SETTING_CHECKS,
    check_backup_folder,
    check_django_safemigrate,
    check_settings,
)


def check_ids(settings, value) -> dict[str, str]:
    settings.SAFEMIGRATE = value
    return {m.id: f"{m.msg} {m.hint}" for m in check_settings()}


BAD_VALUES = {
    "LOCK_TIMEOUT": "quick",
    "STATEMENT_TIMEOUT": -5,
    "CONCURRENT_STATEMENT_TIMEOUT": "1 fortnight",
    "RETRIES": "many",
    "RETRY_BACKOFF": True,
    "RETRY_BACKOFF_MAX": [],
    "RETRY_DEADLINE": "10 minutes",
    "PREFLIGHT": "yes",
    "PREFLIGHT_WAIT": "",
    "TERMINATE_IDLE_BLOCKERS_AFTER": "idle",
    "RUN_LOCK_WAIT": {},
    "POOLER": "pgbouncer",
    "HISTORY": 1,
    "HISTORY_MAX_STATEMENTS": -1,
    "TABLES": {"shop_order": {"LOCK_TIMEOUT": "fast"}},
    "LOCK_TIMEOUT_MAX": 0,
    "RETRY_LOCK_TIMEOUTS": "400ms",
    "BASELINE": {"shop": ""},
    "SMALL_TABLE_ROWS": "small",
    "HOT_TABLES": "shop_order",
    "HOT_WRITES_PER_SECOND": 0,
    "CHECKLIST": ["Estimate migration duration"],
    "REQUIRE_APPROVAL": True,
    "MAINTENANCE_WINDOWS": [{"days": ["weekends"], "start": "22:00", "end": "06:00"}],
    "MAINTENANCE_LONG_LOCK": "a while",
    "BACKFILL_BATCH_SIZE": 0,
    "BACKFILL_MAX_BATCH_SIZE": "lots",
    "BACKFILL_TARGET_BATCH_TIME": 0,
    "BACKFILL_PAUSE": "a while",
    "BACKFILL_MAX_REPLICATION_LAG": -1,
    "BACKFILL_MAX_TRANSACTION_AGE": "long",
    "BACKFILL_MODE": "celery",
    "BACKFILL_TASK_BACKEND": "",
    "TRANSITION_BATCH_TIME": "0ms",
    "INDEX_PROGRESS_INTERVAL": "often",
    "LIVE_PROCESS_GATE": "on",
    "LIVE_PROCESS_WINDOW": 0,
    "LIVE_PROCESS_WAIT": "until done",
    "LIVE_PROCESS_HEARTBEAT": "0s",
    "BACKUP": "yes",
    "BACKUP_DIR": "backups",
    "BACKUP_SCOPE": "schema",
    "BACKUP_KEEP": 0,
    "PG_DUMP": "pg_dump",
    "REHEARSAL_SAMPLE_ROWS": 0,
    "REHEARSAL_QUERIES": "SELECT 1",
    "REHEARSAL_TOP_QUERIES": -1,
    "REHEARSAL_SLOWDOWN": 0.5,
    "REHEARSAL_QUERY_TIMEOUT": "a minute",
}


def test_every_setting_has_a_bad_value_here():
    assert {key for _, key, _ in SETTING_CHECKS} == set(BAD_VALUES)


@pytest.mark.parametrize(("check_id", "key", "prop"), SETTING_CHECKS)
def test_bad_setting_is_reported(settings, check_id, key, prop):
    found = check_ids(settings, {key: BAD_VALUES[key]})
    assert list(found) == [check_id]
    assert f"SAFEMIGRATE['{key}']" in found[check_id]
    assert "remove it to use the default" in found[check_id]


def test_defaults_pass(settings):
    assert check_ids(settings, {}) == {}


def test_valid_values_pass(settings):
    assert (
        check_ids(
            settings,
            {
                "LOCK_TIMEOUT": "150ms",
                "STATEMENT_TIMEOUT": "1h",
                "RETRIES": 5,
                "TERMINATE_IDLE_BLOCKERS_AFTER": "30s",
                "POOLER": "transaction",
                "LOCK_TIMEOUT_MAX": "2s",
                "RETRY_LOCK_TIMEOUTS": ["400ms", 800, "2s"],
                "TABLES": {
                    "shop_order": {"LOCK_TIMEOUT": 50, "LOCK_TIMEOUT_MAX": "300ms", "RETRIES": 100}
                },
            },
        )
        == {}
    )


def test_settings_must_be_a_dict(settings):
    assert list(check_ids(settings, ["LOCK_TIMEOUT"])) == ["safemigrate.E001"]


def test_unknown_setting_is_reported(settings):
    found = check_ids(settings, {"LOCK_TIMEOUTS": "1s"})
    assert list(found) == ["safemigrate.E002"]
    assert "'LOCK_TIMEOUTS'" in found["safemigrate.E002"]


def test_unknown_table_policy_key(settings):
    found = check_ids(settings, {"TABLES": {"t": {"LOCK": "1s"}}})
    assert "unknown keys ['LOCK']" in found["safemigrate.E017"]


@pytest.mark.parametrize(
    ("steps", "complaint"),
    [
        ([], "non-empty list"),
        (["400ms", "soon"], "RETRY_LOCK_TIMEOUTS'][1] must be a duration"),
        (["400ms", 0], "above zero"),
        (["400ms", "2s"], "2000ms, above LOCK_TIMEOUT_MAX (1000ms)"),
    ],
)
def test_retry_lock_timeouts_must_stay_under_the_cap(settings, steps, complaint):
    found = check_ids(settings, {"RETRY_LOCK_TIMEOUTS": steps})
    assert list(found) == ["safemigrate.E019"]
    assert complaint in found["safemigrate.E019"]


def test_a_bad_cap_is_reported_once(settings):
    found = check_ids(settings, {"LOCK_TIMEOUT_MAX": "never", "RETRY_LOCK_TIMEOUTS": ["5s"]})
    assert list(found) == ["safemigrate.E018"]


def test_a_table_cap_must_be_above_zero(settings):
    found = check_ids(settings, {"TABLES": {"t": {"LOCK_TIMEOUT_MAX": "0ms"}}})
    assert "['LOCK_TIMEOUT_MAX'] must be above zero" in found["safemigrate.E017"]


def test_no_lock_timeout_warns(settings):
    assert list(check_ids(settings, {"LOCK_TIMEOUT": 0})) == ["safemigrate.W002"]


def test_django_safemigrate_installed_warns(settings, tmp_path, monkeypatch):
    assert check_django_safemigrate() == []
    (tmp_path / "django_safemigrate").mkdir()
    (tmp_path / "django_safemigrate" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "django_safemigrate"]
    [message] = check_django_safemigrate()
    assert message.id == "safemigrate.W001"
    assert "Remove 'django_safemigrate'" in message.hint


def test_backup_without_a_folder_is_an_error(settings):
    settings.SAFEMIGRATE = {"BACKUP": True}
    [message] = check_backup_folder()
    assert message.id == "safemigrate.E105"
    assert "BACKUP_DIR" in message.hint
    settings.SAFEMIGRATE = {"BACKUP": True, "BACKUP_DIR": "/var/backups/app"}
    assert check_backup_folder() == []
    settings.SAFEMIGRATE = {"BACKUP": "yes"}
    assert check_backup_folder() == [], "reported as safemigrate.E100"
