"""System checks for ``settings.SAFEMIGRATE``, one stable id per setting.

Each check reads the setting through ``safemigrate.conf``, the same code the command uses,
so the checks and the runtime cannot disagree about what is valid. The checks of the
expand/contract transitions import the operations only when a migration uses them: every
``migrate`` and ``runserver`` runs these checks (see ``safemigrate.ondisk``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError, connections
from django.db.migrations.loader import MigrationLoader

from safemigrate.compat import tasks_framework_error
from safemigrate.conf import DEFAULTS, conf
from safemigrate.exceptions import ConfigurationError
from safemigrate.ondisk import uses_safemigrate_operations

DOCS = "See docs/settings.md."

#: (check id, setting, the conf property that parses it)
SETTING_CHECKS: tuple[tuple[str, str, str], ...] = (
    ("safemigrate.E003", "LOCK_TIMEOUT", "lock_timeout_ms"),
    ("safemigrate.E004", "STATEMENT_TIMEOUT", "statement_timeout_ms"),
    ("safemigrate.E005", "CONCURRENT_STATEMENT_TIMEOUT", "concurrent_statement_timeout_ms"),
    ("safemigrate.E006", "RETRIES", "retries"),
    ("safemigrate.E007", "RETRY_BACKOFF", "retry_backoff_ms"),
    ("safemigrate.E008", "RETRY_BACKOFF_MAX", "retry_backoff_max_ms"),
    ("safemigrate.E009", "RETRY_DEADLINE", "retry_deadline_ms"),
    ("safemigrate.E010", "PREFLIGHT", "preflight"),
    ("safemigrate.E011", "PREFLIGHT_WAIT", "preflight_wait_ms"),
    ("safemigrate.E012", "TERMINATE_IDLE_BLOCKERS_AFTER", "terminate_idle_blockers_after_ms"),
    ("safemigrate.E013", "RUN_LOCK_WAIT", "run_lock_wait_ms"),
    ("safemigrate.E014", "POOLER", "pooler"),
    ("safemigrate.E015", "HISTORY", "history"),
    ("safemigrate.E016", "HISTORY_MAX_STATEMENTS", "history_max_statements"),
    ("safemigrate.E017", "TABLES", "tables"),
    ("safemigrate.E018", "LOCK_TIMEOUT_MAX", "lock_timeout_max_ms"),
    ("safemigrate.E019", "RETRY_LOCK_TIMEOUTS", "retry_lock_timeouts_ms"),
    ("safemigrate.E020", "BASELINE", "baseline"),
    ("safemigrate.E021", "SMALL_TABLE_ROWS", "small_table_rows"),
    ("safemigrate.E022", "HOT_TABLES", "hot_tables"),
    ("safemigrate.E023", "HOT_WRITES_PER_SECOND", "hot_writes_per_second"),
    ("safemigrate.E080", "CHECKLIST", "checklist"),
    ("safemigrate.E081", "REQUIRE_APPROVAL", "require_approval"),
    ("safemigrate.E082", "MAINTENANCE_WINDOWS", "maintenance_windows"),
    ("safemigrate.E083", "MAINTENANCE_LONG_LOCK", "maintenance_long_lock_ms"),
    ("safemigrate.E040", "BACKFILL_BATCH_SIZE", "backfill_batch_size"),
    ("safemigrate.E041", "BACKFILL_MAX_BATCH_SIZE", "backfill_max_batch_size"),
    ("safemigrate.E042", "BACKFILL_TARGET_BATCH_TIME", "backfill_target_batch_time_ms"),
    ("safemigrate.E043", "BACKFILL_PAUSE", "backfill_pause_ms"),
    ("safemigrate.E044", "BACKFILL_MAX_REPLICATION_LAG", "backfill_max_replication_lag_ms"),
    ("safemigrate.E045", "BACKFILL_MAX_TRANSACTION_AGE", "backfill_max_transaction_age_ms"),
    ("safemigrate.E046", "BACKFILL_MODE", "backfill_mode"),
    ("safemigrate.E047", "BACKFILL_TASK_BACKEND", "backfill_task_backend"),
    ("safemigrate.E050", "TRANSITION_BATCH_TIME", "transition_batch_time_ms"),
    ("safemigrate.E060", "INDEX_PROGRESS_INTERVAL", "index_progress_interval_ms"),
    ("safemigrate.E090", "LIVE_PROCESS_GATE", "live_process_gate"),
    ("safemigrate.E091", "LIVE_PROCESS_WINDOW", "live_process_window_ms"),
    ("safemigrate.E092", "LIVE_PROCESS_WAIT", "live_process_wait_ms"),
    ("safemigrate.E093", "LIVE_PROCESS_HEARTBEAT", "live_process_heartbeat_ms"),
    ("safemigrate.E100", "BACKUP", "backup"),
    ("safemigrate.E101", "BACKUP_DIR", "backup_dir"),
    ("safemigrate.E102", "BACKUP_SCOPE", "backup_scope"),
    ("safemigrate.E103", "BACKUP_KEEP", "backup_keep"),
    ("safemigrate.E104", "PG_DUMP", "pg_dump"),
    ("safemigrate.E120", "REHEARSAL_SAMPLE_ROWS", "rehearsal_sample_rows"),
    ("safemigrate.E121", "REHEARSAL_QUERIES", "rehearsal_queries"),
    ("safemigrate.E122", "REHEARSAL_TOP_QUERIES", "rehearsal_top_queries"),
    ("safemigrate.E123", "REHEARSAL_SLOWDOWN", "rehearsal_slowdown"),
    ("safemigrate.E124", "REHEARSAL_QUERY_TIMEOUT", "rehearsal_query_timeout_ms"),
)


@register(Tags.compatibility)
def check_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> Sequence[CheckMessage]:
    """Validate every safemigrate setting and name the fix for each bad one."""
    if not isinstance(getattr(settings, "SAFEMIGRATE", {}), Mapping):
        return [
            Error(
                "SAFEMIGRATE must be a dict of settings.",
                hint=f"Write SAFEMIGRATE = {{'LOCK_TIMEOUT': '200ms'}} or remove it. {DOCS}",
                id="safemigrate.E001",
            )
        ]
    messages: list[CheckMessage] = [
        Error(
            f"SAFEMIGRATE has an unknown setting {key!r}.",
            hint=f"Known settings: {', '.join(DEFAULTS)}. Check the spelling. {DOCS}",
            id="safemigrate.E002",
        )
        for key in conf.unknown_keys()
    ]
    for check_id, key, prop in SETTING_CHECKS:
        try:
            getattr(conf, prop)
        except ConfigurationError as error:
            hint = f"Set SAFEMIGRATE['{key}'] to a valid value, or remove it to use the default "
            messages.append(Error(str(error), hint=f"{hint}{DEFAULTS[key]!r}. {DOCS}", id=check_id))
    return messages + _lock_timeout_warning(messages)


def _lock_timeout_warning(errors: list[CheckMessage]) -> list[CheckMessage]:
    if any(message.id == "safemigrate.E003" for message in errors) or conf.lock_timeout_ms:
        return []
    return [
        Warning(
            "SAFEMIGRATE['LOCK_TIMEOUT'] is 0: a migration waiting for a lock waits forever, "
            "and every query on that table queues behind it.",
            hint="Use a short lock timeout with retries, e.g. '200ms' (the default).",
            id="safemigrate.W002",
        )
    ]


@register(Tags.compatibility)
def check_django_safemigrate(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> Sequence[CheckMessage]:
    """Warn when django-safemigrate, whose command has the same name, is installed too."""
    if "django_safemigrate" not in settings.INSTALLED_APPS:
        return []
    return [
        Warning(
            "django-safemigrate is installed too: both apps provide a 'safemigrate' command, "
            "and the one listed first in INSTALLED_APPS wins.",
            hint="Remove 'django_safemigrate' from INSTALLED_APPS: safemigrate does what it "
            "did. See docs/installation.md#switching-from-django-safemigrate.",
            id="safemigrate.W001",
        )
    ]


@register(Tags.compatibility)
def check_approval_needs_admin(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> Sequence[CheckMessage]:
    """Warn when the approval gate is on but nobody can approve: reviews live in the admin."""
    try:
        gate = conf.require_approval
    except ConfigurationError:
        return []  # reported as safemigrate.E081
    if gate is None or "django.contrib.admin" in settings.INSTALLED_APPS:
        return []
    return [
        Warning(
            f"SAFEMIGRATE['REQUIRE_APPROVAL'] is {gate!r} but django.contrib.admin is not "
            "installed: migrations are approved in the admin, so every gated run will be refused.",
            hint="Add 'django.contrib.admin' to INSTALLED_APPS (and its URLs), or set "
            "REQUIRE_APPROVAL to None. See docs/reviews.md.",
            id="safemigrate.W080",
        )
    ]


@register(Tags.compatibility)
def check_backfill_tasks(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> Sequence[CheckMessage]:
    """Backfills on task workers need the tasks framework and the backend they name."""
    try:
        mode, alias = conf.backfill_mode, conf.backfill_task_backend
    except ConfigurationError:
        return []  # Reported by check_settings.
    if mode == "inline":
        return []
    problem = tasks_framework_error()
    if problem is not None:
        return [
            Error(
                f"SAFEMIGRATE['BACKFILL_MODE'] is {mode!r}, but this project has no tasks "
                "framework.",
                hint=f"{problem} Or set BACKFILL_MODE to 'inline'. See docs/backfills.md.",
                id="safemigrate.E048",
            )
        ]
    backends = getattr(settings, "TASKS", {"default": {}})
    if alias not in backends:
        return [
            Error(
                f"SAFEMIGRATE['BACKFILL_TASK_BACKEND'] is {alias!r}, which settings.TASKS "
                "does not define.",
                hint=f"Use one of {', '.join(map(repr, backends))}, or add {alias!r} to TASKS.",
                id="safemigrate.E049",
            )
        ]
    return []


@register(Tags.compatibility)
def check_backfill_sizes(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> Sequence[CheckMessage]:
    """A first batch larger than the largest allowed is silently cut: say so."""
    try:
        first, largest = conf.backfill_batch_size, conf.backfill_max_batch_size
    except ConfigurationError:
        return []
    if first <= largest:
        return []
    return [
        Warning(
            f"SAFEMIGRATE['BACKFILL_BATCH_SIZE'] ({first}) is larger than "
            f"BACKFILL_MAX_BATCH_SIZE ({largest}); batches start at {largest}.",
            hint="Lower BACKFILL_BATCH_SIZE or raise BACKFILL_MAX_BATCH_SIZE.",
            id="safemigrate.W040",
        )
    ]


@register(Tags.compatibility)
def check_live_process_window(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> Sequence[CheckMessage]:
    """A window no longer than the heartbeat makes live processes look gone between beats."""
    try:
        beat, window = conf.live_process_heartbeat_ms, conf.live_process_window_ms
    except ConfigurationError:
        return []  # Reported by check_settings.
    if window > 2 * beat:
        return []
    return [
        Warning(
            f"SAFEMIGRATE['LIVE_PROCESS_WINDOW'] ({window} ms) is not more than twice "
            f"LIVE_PROCESS_HEARTBEAT ({beat} ms): a live process may look gone between two "
            "heartbeats, and a post-deploy migration run while it still serves old code.",
            hint="Make LIVE_PROCESS_WINDOW at least three heartbeats (the defaults are "
            "'3min' and '1min'). See docs/deploy.md.",
            id="safemigrate.W090",
        )
    ]


@register(Tags.compatibility)
def check_backup_folder(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> Sequence[CheckMessage]:
    """A backup before every run needs a folder to go to."""
    try:
        backup, folder = conf.backup, conf.backup_dir
    except ConfigurationError:
        return []  # Reported by check_settings.
    if not backup or folder is not None:
        return []
    return [
        Error(
            "SAFEMIGRATE['BACKUP'] is True but SAFEMIGRATE['BACKUP_DIR'] is not set: every "
            "run would stop before applying anything, with no folder to back up into.",
            hint="Set BACKUP_DIR to an absolute path on a disk with room for the backups, "
            "or set BACKUP to False. See docs/backups.md.",
            id="safemigrate.E105",
        )
    ]


@register(Tags.database)
def check_leftover_sync_triggers(
    app_configs: Sequence[AppConfig] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> Sequence[CheckMessage]:
    """A sync trigger still there after its contract (or type change) was applied."""
    messages: list[CheckMessage] = []
    if not databases or not uses_safemigrate_operations():
        return messages
    from safemigrate.operations import transitions

    for alias in databases:
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        try:
            leftovers = transitions.leftover_triggers(connection)
        except DatabaseError:
            continue  # no migration table yet: nothing applied, nothing left over
        except Exception:  # a broken graph is Django's own check's to report
            continue
        messages += [
            Error(
                f"Sync trigger {trigger} on {table} outlived {placed.app_label}."
                f"{placed.migration}, which drops it: every write to the table still runs it.",
                hint="Run manage.py safemigrate --doctor to drop it. "
                "See docs/operations/rename-column.md.",
                id="safemigrate.E110",
            )
            for placed, table, trigger in leftovers
        ]
    return messages


@register(Tags.compatibility)
def check_contracts_have_expands(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> Sequence[CheckMessage]:
    """A ``FinishRenameField`` whose ``RenameFieldSafely`` is not before it in the graph."""
    if not uses_safemigrate_operations():
        return []
    from safemigrate.operations import transitions

    try:
        loader = MigrationLoader(None, ignore_no_migrations=True)
        orphans = transitions.contracts_without_expand(loader)
    except Exception:  # a broken graph is Django's own check's to report
        return []
    return [
        Error(
            f"{placed.app_label}.{placed.migration}: {placed.operation.describe()}, but no "
            "migration before it starts what it finishes: it would drop what no trigger kept "
            "in step.",
            hint="Add the expand (RenameFieldSafely or RebuildTableSafely, same arguments) in "
            "a migration it depends on, or remove the contract. "
            "See docs/operations/rename-column.md.",
            id="safemigrate.E111",
        )
        for placed in orphans
    ]
