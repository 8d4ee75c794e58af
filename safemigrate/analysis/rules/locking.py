"""Rules about locks held for as long as a table takes to scan, rewrite or index."""

from __future__ import annotations

from safemigrate.analysis.rules.model import Rule, Severity, op

_E = Severity.ERROR
_AE = "ACCESS EXCLUSIVE: blocks reads and writes"

LOCKING_RULES: tuple[Rule, ...] = (
    Rule(
        id="SM101",
        fact="add_column_volatile_default",
        title="Adding a column with a volatile default rewrites the table",
        severity=_E,
        lock=f"{_AE}, for the whole rewrite",
        why="A default PostgreSQL must compute per row (random(), gen_random_uuid(), "
        "clock_timestamp(), a serial or identity sequence) cannot be stored once in the "
        "catalog, so ADD COLUMN rewrites every row while holding ACCESS EXCLUSIVE.",
        safe="Add the column nullable without a default, backfill it in batches with "
        f"`{op('Backfill')}`, then set the default and NOT NULL with `{op('SafeAddNotNull')}`.",
        bad='migrations.AddField("order", "token", models.UUIDField(db_default=RandomUUID()))',
        good='migrations.AddField("order", "token", models.UUIDField(null=True)),\n'
        'Backfill("order", "token", RandomUUID()),  # separate, non-atomic migration',
        operations=(op("Backfill"), op("SafeAddNotNull")),
        pg_versions="11+ (before 11, every default rewrote the table)",
    ),
    Rule(
        id="SM102",
        fact="add_column_not_null_no_default",
        title="Adding a NOT NULL column without a default fails on a non-empty table",
        severity=_E,
        lock=_AE,
        why="Existing rows would hold NULL in a NOT NULL column, so PostgreSQL refuses the "
        "ALTER TABLE as soon as the table has a row: the deploy fails in production although "
        "it passed on an empty development database.",
        safe="Add the column nullable (or with a constant default), backfill with "
        f"`{op('Backfill')}`, then make it NOT NULL with `{op('SafeAddNotNull')}`.",
        bad='migrations.RunSQL("ALTER TABLE shop_order ADD COLUMN code text NOT NULL")',
        good='migrations.AddField("order", "code", models.TextField(null=True)),\n'
        'SafeAddNotNull("order", "code")  # after the backfill',
        operations=(op("Backfill"), op("SafeAddNotNull")),
        pg_versions="all",
    ),
    Rule(
        id="SM103",
        fact="set_not_null",
        title="Setting NOT NULL on an existing column scans the table under an exclusive lock",
        severity=_E,
        lock=f"{_AE}, for a full scan",
        why="SET NOT NULL checks every row while holding ACCESS EXCLUSIVE, unless a validated "
        "CHECK (column IS NOT NULL) constraint already proves it (PostgreSQL 12+).",
        safe=f"Use `{op('SafeAddNotNull')}`: it adds CHECK (col IS NOT NULL) NOT VALID, "
        "validates it under SHARE UPDATE EXCLUSIVE, then sets NOT NULL without a scan.",
        bad='migrations.AlterField("order", "note", models.TextField())  # was null=True',
        good='SafeAddNotNull("order", "note")',
        operations=(op("SafeAddNotNull"),),
    ),
    Rule(
        id="SM104",
        fact="alter_column_type",
        title="Changing a column's type rewrites the table",
        severity=_E,
        lock=f"{_AE}, for the whole rewrite and index rebuilds",
        why="Most type changes rewrite every row and rebuild every index on the table under "
        "ACCESS EXCLUSIVE. Only binary-compatible changes are free: widening varchar(n), "
        "varchar to text, numeric(p,s) to a wider precision, removing a length limit.",
        safe=f"Use `{op('AlterFieldTypeSafely')}`: a shadow column of the new type kept equal "
        "by a trigger, filled in batches, its indexes and constraints built concurrently, "
        "swapped in in one short transaction (`safemigrate --fix` writes it). For several "
        f"columns at once, `{op('RebuildTableSafely')}`.",
        bad='migrations.AlterField("order", "quantity", models.BigIntegerField())  # was int',
        good="# atomic = False\n"
        'AlterFieldTypeSafely("order", "quantity", models.BigIntegerField())',
        operations=(op("AlterFieldTypeSafely"), op("RebuildTableSafely")),
    ),
    Rule(
        id="SM109",
        fact="create_index",
        title="Creating an index without CONCURRENTLY blocks writes",
        severity=_E,
        lock="SHARE: blocks INSERT, UPDATE and DELETE for the whole build",
        why="CREATE INDEX holds a SHARE lock until the index is built: on a large table, "
        "minutes without writes.",
        safe=f"Use `{op('AddIndexConcurrently')}` in a migration with `atomic = False`.",
        bad='migrations.AddIndex("order", models.Index(fields=["status"], name="order_st"))',
        good="atomic = False\n"
        'AddIndexConcurrently("order", models.Index(fields=["status"], name="order_st"))',
        operations=(op("AddIndexConcurrently"),),
    ),
    Rule(
        id="SM110",
        fact="drop_index",
        title="Dropping an index without CONCURRENTLY blocks reads and writes",
        severity=_E,
        lock=f"{_AE} on the table, while it waits for running queries",
        why="DROP INDEX takes ACCESS EXCLUSIVE on the index's table; queued behind one long "
        "query, it stops all traffic on the table.",
        safe=f"Use `{op('RemoveIndexConcurrently')}` in a migration with `atomic = False`.",
        bad='migrations.RemoveIndex("order", "order_st")',
        good='atomic = False\nRemoveIndexConcurrently("order", "order_st")',
        operations=(op("RemoveIndexConcurrently"),),
    ),
    Rule(
        id="SM111",
        fact="add_unique",
        title="Adding a unique constraint builds its index under an exclusive lock",
        severity=_E,
        lock=f"{_AE}, for the index build",
        why="ADD CONSTRAINT ... UNIQUE builds a unique index while holding ACCESS EXCLUSIVE.",
        safe=f"Use `{op('AddUniqueConstraintConcurrently')}`: CREATE UNIQUE INDEX "
        "CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX (instant).",
        bad='migrations.AddConstraint("order", models.UniqueConstraint(fields=["code"], '
        'name="order_code_uniq"))',
        good='AddUniqueConstraintConcurrently("order", models.UniqueConstraint('
        'fields=["code"], name="order_code_uniq"))',
        operations=(op("AddUniqueConstraintConcurrently"),),
    ),
    Rule(
        id="SM112",
        fact="add_foreign_key",
        title="Adding a foreign key validates it at once, locking both tables",
        severity=_E,
        lock="SHARE ROW EXCLUSIVE on both tables (ACCESS EXCLUSIVE with ADD COLUMN), "
        "for a full scan",
        why="A foreign key added without NOT VALID is checked against every row while writes "
        "to both the table and the referenced table are blocked.",
        safe=f"Use `{op('AddConstraintNotValid')}` then `{op('ValidateConstraint')}` in a "
        "later migration; validation takes only SHARE UPDATE EXCLUSIVE.",
        bad='migrations.AddField("order", "coupon", models.ForeignKey("coupon", models.PROTECT, '
        "null=True))",
        good='migrations.AddField("order", "coupon", models.ForeignKey("coupon", '
        "models.PROTECT, null=True, db_constraint=False)),\n"
        'AddConstraintNotValid("order", ...), ValidateConstraint("order", ...)',
        operations=(op("AddConstraintNotValid"), op("ValidateConstraint")),
    ),
    Rule(
        id="SM113",
        fact="add_check",
        title="Adding a CHECK constraint validates it at once under an exclusive lock",
        severity=_E,
        lock=f"{_AE}, for a full scan",
        why="ADD CONSTRAINT ... CHECK scans every row while holding ACCESS EXCLUSIVE.",
        safe=f"Use `{op('AddConstraintNotValid')}` then `{op('ValidateConstraint')}`.",
        bad='migrations.AddConstraint("order", models.CheckConstraint(condition=Q(total__gte=0),'
        ' name="order_total_gte_0"))',
        good='AddConstraintNotValid("order", models.CheckConstraint(...)),\n'
        'ValidateConstraint("order", "order_total_gte_0")  # next migration',
        operations=(op("AddConstraintNotValid"), op("ValidateConstraint")),
    ),
    Rule(
        id="SM114",
        fact="add_exclusion",
        title="Adding an exclusion constraint builds its index under an exclusive lock",
        severity=_E,
        lock=f"{_AE}, for the index build",
        why="Exclusion constraints cannot be added NOT VALID nor built concurrently: the "
        "index is built while all traffic waits.",
        safe="Add it while the table is new or empty, or in a maintenance window; enforce "
        "the rule in the application meanwhile.",
        bad='migrations.AddConstraint("booking", ExclusionConstraint(...))',
        good='migrations.CreateModel("booking", ..., options={"constraints": '
        "[ExclusionConstraint(...)]})",
    ),
    Rule(
        id="SM117",
        fact="unbatched_dml",
        title="An unbatched UPDATE or DELETE locks every row it touches until commit",
        severity=_E,
        lock="ROW EXCLUSIVE plus a row lock on every matched row, for the whole statement",
        why="One statement over a large table holds row locks on all of it until it commits, "
        "blocks concurrent updates of those rows, bloats the table and replicas lag.",
        safe=f"Use `{op('Backfill')}`: batches of a few thousand rows, each in its own "
        "transaction, in a non-atomic migration.",
        bad="migrations.RunSQL(\"UPDATE shop_order SET status = 'new'\", migrations.RunSQL.noop)",
        good='Backfill("order", "status", Value("new"), batch_size=5000)',
        operations=(op("Backfill"),),
        pg_versions="all",
    ),
    Rule(
        id="SM123",
        fact="table_rewrite_command",
        title="VACUUM FULL, CLUSTER and REINDEX rebuild the table under an exclusive lock",
        severity=_E,
        lock=f"{_AE} (REINDEX: SHARE), for the whole rebuild",
        why="These commands rewrite the table or its indexes while blocking traffic.",
        safe="Use REINDEX CONCURRENTLY (PostgreSQL 12+), or pg_repack outside migrations.",
        bad='migrations.RunSQL("VACUUM FULL shop_order")',
        good='migrations.RunSQL("REINDEX INDEX CONCURRENTLY order_st", '
        "migrations.RunSQL.noop)  # atomic = False",
        pg_versions="all",
    ),
    Rule(
        id="SM124",
        fact="add_stored_generated",
        title="Adding a stored generated column rewrites the table",
        severity=_E,
        lock=f"{_AE}, for the whole rewrite",
        why="PostgreSQL computes and stores the value for every existing row at once.",
        safe=f"Add a plain nullable column, fill it with `{op('Backfill')}` and keep it "
        "current with a trigger.",
        bad='migrations.AddField("order", "gross", models.GeneratedField(expression=..., '
        "output_field=..., db_persist=True))",
        good='migrations.AddField("order", "gross", models.DecimalField(null=True, ...)),\n'
        'Backfill("order", "gross", F("total") * 1.2)',
        operations=(op("Backfill"),),
    ),
    Rule(
        id="SM126",
        fact="add_primary_key",
        title="Adding a primary key builds its index under an exclusive lock",
        severity=_E,
        lock=f"{_AE}, for the index build (and a NOT NULL scan)",
        why="ADD PRIMARY KEY builds a unique index and checks NOT NULL while all traffic waits.",
        safe="CREATE UNIQUE INDEX CONCURRENTLY first, then ADD PRIMARY KEY USING INDEX; "
        f"`{op('AddUniqueConstraintConcurrently')}` does the first half.",
        bad='migrations.RunSQL("ALTER TABLE shop_tag ADD PRIMARY KEY (code)")',
        good='migrations.RunSQL("ALTER TABLE shop_tag ADD PRIMARY KEY USING INDEX tag_code")',
        operations=(op("AddUniqueConstraintConcurrently"),),
    ),
    Rule(
        id="SM129",
        fact="validate_in_same_transaction",
        title="Validating a constraint in the transaction that added it keeps the strong lock",
        severity=_E,
        lock="the ADD CONSTRAINT's lock (ACCESS EXCLUSIVE or SHARE ROW EXCLUSIVE), for a full scan",
        why="NOT VALID makes ADD CONSTRAINT instant, but in an atomic migration its lock is "
        "held until commit: a VALIDATE in the same transaction scans the table under it, and "
        "the point of NOT VALID is lost.",
        safe=f"Put `{op('ValidateConstraint')}` in a later migration (or set "
        "`atomic = False`), so that the lock of the ADD is released before the scan.",
        bad='# one atomic migration\nAddConstraintNotValid("order", check),\n'
        'ValidateConstraint("order", "order_total_gte_0")',
        good='# 0005\nAddConstraintNotValid("order", check)\n'
        '# 0006\nValidateConstraint("order", "order_total_gte_0")',
        operations=(op("ValidateConstraint"),),
    ),
    Rule(
        id="SM130",
        fact="truncate",
        title="TRUNCATE empties a table under an exclusive lock",
        severity=_E,
        lock=f"{_AE}",
        why="TRUNCATE takes ACCESS EXCLUSIVE and removes every row at once (with CASCADE, of "
        "the referencing tables too); code still deployed loses its data mid-request.",
        safe=f"Delete in batches with `{op('Backfill')}`-style batching, or drop the table "
        f"in a later release with `{op('SafeDeleteModel')}`.",
        bad='migrations.RunSQL("TRUNCATE shop_auditlog")',
        good="# a batched, non-atomic delete; or keep the rows",
        operations=(op("Backfill"), op("SafeDeleteModel")),
        pg_versions="all",
    ),
)
