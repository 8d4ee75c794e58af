"""The run history: one Run per command, one MigrationRun per migration it applied or unapplied,
its Attempts (each with the sessions that blocked it), the Statements it executed and the
Postconditions it checked; the Backup taken before it, if any; and, for a rollback, the run
it undid.

The history is written by ``safemigrate.guard.history`` on a side connection; nothing else
writes these tables, and the admin shows them read-only.

Reviews are the one thing people change: a Review per migration, with who ticked which
checklist item (ReviewTick) and who approved it, beside what its latest rehearsal measured.
"""

from __future__ import annotations

import shlex

from django.conf import settings
from django.db import models


class Status(models.TextChoices):
    RUNNING = "running", "running"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"
    INTERRUPTED = "interrupted", "interrupted"


class Run(models.Model):
    """One invocation of ``manage.py safemigrate``."""

    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    exit_code = models.SmallIntegerField(null=True, blank=True)
    database = models.CharField(max_length=100)
    targets = models.JSONField(default=list, blank=True)
    options = models.JSONField(default=dict, blank=True)
    os_user = models.CharField(max_length=150, blank=True)
    hostname = models.CharField(max_length=255, blank=True)
    django_version = models.CharField(max_length=32)
    safemigrate_version = models.CharField(max_length=32)
    git_revision = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    #: Why this run applied risky migrations outside the maintenance windows
    #: (``--outside-window REASON``); empty when no window was overridden.
    outside_window_reason = models.TextField(blank=True)
    #: For ``--rollback``: the run whose migrations this one unapplied.
    rollback_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rollbacks"
    )

    class Meta:
        ordering = ["-started_at"]
        # The admin's history list filters by status or database and always sorts newest
        # first: these keep its pages index scans at any history size.
        indexes = [
            models.Index(fields=["status", "-started_at"], name="safemigrate_run_status_idx"),
            models.Index(fields=["database", "-started_at"], name="safemigrate_run_db_idx"),
            # Sorting the list by duration, slowest first, reads this backwards.
            models.Index(fields=["duration_ms", "id"], name="safemigrate_run_duration_idx"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} on {self.database} ({self.status})"

    @property
    def rollback_command(self) -> str:
        """The command that unapplies what this run applied (``--rollback``)."""
        database = [] if self.database == "default" else ["--database", self.database]
        return shlex.join(
            ["python", "manage.py", "safemigrate", "--rollback", str(self.pk), *database]
        )


class BackupScope(models.TextChoices):
    TABLES = "tables", "the tables the plan touches"
    DATABASE = "database", "the whole database"


class Backup(models.Model):
    """The ``pg_dump`` taken before a run, where it is, and how to restore it.

    The file belongs to the folder it was written to; the record says what it holds. When
    retention deletes the file, ``removed_at`` says so and the record stays.
    """

    run = models.OneToOneField(Run, on_delete=models.CASCADE, related_name="backup")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    scope = models.CharField(max_length=8, choices=BackupScope.choices)
    tables = models.JSONField(default=list, blank=True)
    path = models.CharField(max_length=1024)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveBigIntegerField(null=True, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    pg_dump = models.CharField(max_length=1024, blank=True)
    restore_command = models.TextField(blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"backup of run {self.run_id} ({self.status})"

    @property
    def usable(self) -> bool:
        """Whether the file was written whole and retention has not deleted it."""
        return self.status == Status.SUCCEEDED and self.removed_at is None


class Direction(models.TextChoices):
    FORWARDS = "forwards", "forwards"
    BACKWARDS = "backwards", "backwards"


class MigrationRun(models.Model):
    """One migration applied or unapplied within a run."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="migrations")
    app_label = models.CharField(max_length=100)
    name = models.CharField(max_length=255)
    direction = models.CharField(max_length=9, choices=Direction.choices)
    atomic = models.BooleanField(default=True)
    fake = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveBigIntegerField(null=True, blank=True)
    lock_wait_ms = models.PositiveBigIntegerField(default=0)
    statements_omitted = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "started_at"]
        indexes = [
            models.Index(fields=["app_label", "name"]),
            # The admin lists migration runs newest first (with the pk as tie-breaker).
            models.Index(fields=["started_at", "id"], name="safemigrate_mrun_started_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.app_label}.{self.name} ({self.direction}, {self.status})"


class Outcome(models.TextChoices):
    OK = "ok", "ok"
    LOCK_TIMEOUT = "lock_timeout", "lock timeout"
    DEADLOCK = "deadlock", "deadlock"
    BLOCKED = "blocked", "blocked by long transaction"
    STORM = "storm", "blocked by a lock storm"
    STATEMENT_TIMEOUT = "statement_timeout", "statement timeout"
    ERROR = "error", "error"


class Attempt(models.Model):
    """One try at a migration (atomic) or at one of its statements (non-atomic)."""

    migration = models.ForeignKey(MigrationRun, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveBigIntegerField(default=0)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    error = models.TextField(blank=True)
    blockers = models.JSONField(default=list, blank=True)
    backoff_ms = models.PositiveBigIntegerField(default=0)
    #: The lock timeout the attempt's locking statements ran under: retries wait longer.
    #: A plain integer: a positive one's CHECK constraint would scan the history under an
    #: exclusive lock when added.
    lock_timeout_ms = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["migration", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.outcome}"


class Statement(models.Model):
    """One SQL statement a migration executed (SQL text only: parameters are never stored)."""

    migration = models.ForeignKey(MigrationRun, on_delete=models.CASCADE, related_name="statements")
    attempt = models.PositiveIntegerField()
    position = models.PositiveIntegerField()
    sql = models.TextField()
    offset_ms = models.PositiveBigIntegerField()
    duration_ms = models.FloatField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    lock_timeout_ms = models.PositiveIntegerField(null=True, blank=True)
    statement_timeout_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["migration", "position"]

    def __str__(self) -> str:
        return self.sql[:60]


class Postcondition(models.Model):
    """One check a migration declared (``Verify``, ``VerifyPython``) and what it found.

    ``expected`` and ``actual`` are short representations of values, never query parameters.
    """

    migration = models.ForeignKey(
        MigrationRun, on_delete=models.CASCADE, related_name="postconditions"
    )
    attempt = models.PositiveIntegerField()
    position = models.PositiveIntegerField()
    description = models.CharField(max_length=500)
    sql = models.TextField(blank=True)
    expected = models.CharField(max_length=500, blank=True)
    actual = models.CharField(max_length=500, blank=True)
    passed = models.BooleanField()
    error = models.TextField(blank=True)
    duration_ms = models.FloatField()

    class Meta:
        ordering = ["migration", "attempt", "position"]

    def __str__(self) -> str:
        return f"{self.description}: {'held' if self.passed else 'failed'}"


class Review(models.Model):
    """The review of one migration: checklist ticks, notes, and the approval that opens the gate.

    A review belongs to a migration by name, not to a run, so it exists before the migration
    is ever applied. The approval records the migration's fingerprint: editing the migration
    after it was approved makes the approval stale.
    """

    app_label = models.CharField(max_length=100)
    name = models.CharField(max_length=255)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_fingerprint = models.CharField(max_length=64, blank=True)
    #: What the latest rehearsal measured (``safemigrate --rehearse``): the fingerprint it
    #: rehearsed, when, how the copy was made, and each operation's time forwards and back.
    rehearsal = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["app_label", "name"]
        constraints = [
            models.UniqueConstraint(fields=["app_label", "name"], name="safemigrate_review_unique")
        ]
        permissions = [("approve", "Can approve migrations")]

    def __str__(self) -> str:
        return f"{self.app_label}.{self.name}"

    @property
    def approved(self) -> bool:
        return self.approved_at is not None


class ReviewTick(models.Model):
    """One ticked checklist item: which item, who ticked it, and when."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="ticks")
    item = models.CharField(max_length=100)
    text = models.CharField(max_length=500)
    ticked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ticked_at = models.DateTimeField()

    class Meta:
        ordering = ["review", "ticked_at"]
        constraints = [
            models.UniqueConstraint(fields=["review", "item"], name="safemigrate_tick_unique")
        ]

    def __str__(self) -> str:
        return f"{self.review}: {self.item}"


class BackfillStatus(models.TextChoices):
    PENDING = "pending", "pending"
    RUNNING = "running", "running"
    PAUSED = "paused", "paused"
    DONE = "done", "done"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"


class BackfillRequest(models.TextChoices):
    NONE = "", "none"
    PAUSE = "pause", "pause"
    CANCEL = "cancel", "cancel"


class BackfillState(models.Model):
    """One direction of one backfill operation: where it is, how fast, who asked it to stop.

    The checkpoint (``last_key``, ``rows_done``) is updated in the transaction of each batch,
    so after a crash it names exactly the batches that committed.
    """

    name = models.CharField(max_length=255)
    direction = models.CharField(max_length=9, choices=Direction.choices)
    app_label = models.CharField(max_length=100)
    migration = models.CharField(max_length=255)
    operation_index = models.PositiveIntegerField()
    table = models.CharField(max_length=255)
    key = models.CharField(max_length=255)
    mode = models.CharField(max_length=16, default="inline")
    status = models.CharField(
        max_length=16, choices=BackfillStatus.choices, default=BackfillStatus.PENDING
    )
    request = models.CharField(
        max_length=8, choices=BackfillRequest.choices, default=BackfillRequest.NONE, blank=True
    )
    high_water = models.JSONField(null=True, blank=True)
    last_key = models.JSONField(null=True, blank=True)
    rows_done = models.PositiveBigIntegerField(default=0)
    rows_estimated = models.PositiveBigIntegerField(default=0)
    batches = models.PositiveIntegerField(default=0)
    batch_size = models.PositiveIntegerField(default=0)
    lock_timeouts = models.PositiveIntegerField(default=0)
    waited_ms = models.PositiveBigIntegerField(default=0)
    run = models.ForeignKey(
        Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="backfills"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    active_ms = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["name", "direction"], name="backfill_name_direction")
        ]

    def __str__(self) -> str:
        return f"backfill {self.name} ({self.direction}, {self.status})"

    @property
    def rate(self) -> float:
        """Rows per second of batch work so far (pauses and waits included)."""
        return self.rows_done / (self.active_ms / 1000) if self.active_ms else 0.0


class AppProcess(models.Model):
    """One live application process (web or task worker) and the migrations its code ships.

    Each process upserts its own row once a heartbeat (``safemigrate.deploy.heartbeat``);
    the command reads them before a post-deploy migration, so it runs only once no live
    process still runs code without it. The migrations are stored compactly: a digest of
    every migration on the process's disk, and the leaves they all descend from.
    """

    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    #: Set by the database's clock, as the command's window is: hosts' clocks may differ.
    seen_at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=16)
    migrations_digest = models.CharField(max_length=64)
    leaf_migrations = models.JSONField(default=list)
    migration_count = models.PositiveIntegerField()

    class Meta:
        ordering = ["-seen_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["host", "pid", "started_at"], name="safemigrate_appprocess_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} process {self.pid} on {self.host}"
