"""Rules about deployed code, reversibility and transactions, whatever the table's size."""

from __future__ import annotations

from safemigrate.analysis.rules.model import Rule, Severity, op

_E, _W = Severity.ERROR, Severity.WARNING
_AE = "ACCESS EXCLUSIVE, briefly"

CODE_RULES: tuple[Rule, ...] = (
    Rule(
        id="SM105",
        fact="rename_column",
        title="Renaming a column breaks the code that is still deployed",
        severity=_E,
        lock=_AE,
        why="Between the migration and the new code's rollout, running processes query the "
        "old name and fail; a rollback of the code fails the same way.",
        safe=f"Use `{op('RenameFieldSafely')}` (the new column, kept equal to the old by a "
        "trigger and filled in batches), deploy, then "
        f"`{op('FinishRenameField')}` in a post-deploy migration (`safemigrate --fix` writes "
        "both).",
        bad='migrations.RenameField("order", "total", "amount")',
        good='# 0005 (pre-deploy, atomic = False)\nRenameFieldSafely("order", "total", "amount")\n'
        '# 0006 (post-deploy)\nFinishRenameField("order", "total", "amount", '
        "old_field=models.DecimalField(...))",
        operations=(op("RenameFieldSafely"), op("FinishRenameField")),
        pg_versions="all",
        size_matters=False,
    ),
    Rule(
        id="SM106",
        fact="rename_table",
        title="Renaming a table breaks the code that is still deployed",
        severity=_E,
        lock=_AE,
        why="Running processes query the old table name until they restart, and fail.",
        safe=f"Use `{op('RenameModelSafely')}`: the table is renamed and a view bridges the "
        f"old name for the running code, until `{op('FinishRenameModel')}` drops it after the "
        "deploy (`safemigrate --fix` writes both); or keep the table's name with `db_table`.",
        bad='migrations.RenameModel("Order", "Purchase")',
        good='# 0005 (pre-deploy, atomic = False)\nRenameModelSafely("Order", "Purchase")\n'
        '# 0006 (post-deploy)\nFinishRenameModel("Order", "Purchase", old_table="shop_order")',
        operations=(op("RenameModelSafely"), op("FinishRenameModel")),
        pg_versions="all",
        size_matters=False,
    ),
    Rule(
        id="SM107",
        fact="drop_column",
        title="Dropping a column breaks the code that is still deployed",
        severity=_E,
        lock=_AE,
        why="Django selects every field of a model: until every process runs code without "
        "the field, their queries name a column that no longer exists. The data is lost too.",
        safe=f"Use `{op('SafeRemoveField')}`: remove the field from the state first, deploy, "
        "then drop the column in a later release.",
        bad='migrations.RemoveField("order", "legacy_code")',
        good='SafeRemoveField("order", "legacy_code")  # state first, column next release',
        operations=(op("SafeRemoveField"),),
        pg_versions="all",
        size_matters=False,
    ),
    Rule(
        id="SM108",
        fact="drop_table",
        title="Dropping a table breaks the code that is still deployed",
        severity=_E,
        lock=_AE,
        why="Processes still running the old code query the table and fail; the data is gone.",
        safe=f"Use `{op('SafeDeleteModel')}`: remove the model from the state first, deploy, "
        "then drop the table in a later release.",
        bad='migrations.DeleteModel("legacycoupon")',
        good='SafeDeleteModel("legacycoupon")  # state first, table next release',
        operations=(op("SafeDeleteModel"),),
        pg_versions="all",
        size_matters=False,
    ),
    Rule(
        id="SM115",
        fact="runpython_irreversible",
        title="RunPython without reverse code cannot be rolled back",
        severity=_W,
        lock="none by itself",
        why="Without reverse_code, migrating backwards past this migration raises "
        "IrreversibleError: a failed deploy cannot be rolled back.",
        safe="Pass `reverse_code` (use `migrations.RunPython.noop` when undoing needs nothing).",
        bad="migrations.RunPython(fill_codes)",
        good="migrations.RunPython(fill_codes, migrations.RunPython.noop)",
        pg_versions="all",
        size_matters=False,
        new_table_safe=False,
    ),
    Rule(
        id="SM116",
        fact="data_with_schema",
        title="Data changes in the same transaction as schema changes hold the schema locks",
        severity=_E,
        lock="the schema change's locks (often ACCESS EXCLUSIVE) until the data change commits",
        why="In an atomic migration the ACCESS EXCLUSIVE lock of the DDL is held until the "
        "RunPython or UPDATE finishes, so traffic waits for the whole data migration.",
        safe="Put data changes in their own migration, non-atomic and batched with "
        f"`{op('Backfill')}`.",
        bad='migrations.AddField("order", "code", ...),\nmigrations.RunPython(fill_codes, noop)',
        good="# 0005: AddField only\n# 0006 (atomic = False): Backfill(...)",
        operations=(op("Backfill"),),
        pg_versions="all",
        size_matters=False,
    ),
    Rule(
        id="SM118",
        fact="unparseable_sql",
        title="RunSQL that cannot be parsed cannot be judged",
        severity=_W,
        lock="unknown",
        why="safemigrate reads RunSQL with PostgreSQL's own parser; SQL it cannot parse (a "
        "psql meta-command, a template, a syntax error) escapes every other rule.",
        safe="Write plain SQL statements; acknowledge with `safemigrate = {'allow': {...}}` "
        "if the SQL is right and the parser is not.",
        bad='migrations.RunSQL("\\\\i fix.sql")',
        good='migrations.RunSQL("UPDATE ...", migrations.RunSQL.noop)',
        pg_versions="all",
        size_matters=False,
        new_table_safe=False,
    ),
    Rule(
        id="SM131",
        fact="sql_not_collected",
        title="The operation's SQL could not be collected; it was judged from the operation alone",
        severity=_W,
        lock="unknown: as the operation's own SQL takes",
        why="To read an operation's SQL without running it, Django's schema editor renders it "
        "in collect mode; a few operations still ask the database something it cannot answer "
        "for a state the plan has not reached yet. safemigrate then judges what the operation "
        "says it does (an index, a dropped column, a type change) and cannot see the rest.",
        safe="Check the operation's SQL with `manage.py sqlmigrate` on a database at the state "
        "before the migration; acknowledge with `safemigrate = {'allow': {...}}` once read.",
        bad='migrations.RenameIndex("tag", new_name="tag_idx", old_fields=("name", "slug"))',
        good='migrations.RenameIndex("tag", new_name="tag_idx", old_name="tag_name_slug_idx")',
        pg_versions="all",
        size_matters=False,
        new_table_safe=False,
    ),
    Rule(
        id="SM119",
        fact="runsql_irreversible",
        title="RunSQL without reverse SQL cannot be rolled back",
        severity=_W,
        lock="none by itself",
        why="Without reverse_sql, migrating backwards past this migration raises "
        "IrreversibleError.",
        safe="Pass `reverse_sql` (use `migrations.RunSQL.noop` when undoing needs nothing).",
        bad='migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS citext")',
        good='migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS citext", migrations.RunSQL.noop)',
        pg_versions="all",
        size_matters=False,
        new_table_safe=False,
    ),
    Rule(
        id="SM125",
        fact="concurrently_in_transaction",
        title="CONCURRENTLY cannot run inside a transaction",
        severity=_E,
        lock="none: the statement fails",
        why="CREATE/DROP INDEX CONCURRENTLY and REINDEX CONCURRENTLY refuse to run in a "
        "transaction block, so an atomic migration fails at this statement.",
        safe="Set `atomic = False` on the migration.",
        bad="class Migration(migrations.Migration):\n"
        '    operations = [AddIndexConcurrently("order", ...)]',
        good="class Migration(migrations.Migration):\n    atomic = False\n"
        '    operations = [AddIndexConcurrently("order", ...)]',
        size_matters=False,
        new_table_safe=False,
    ),
    Rule(
        id="SM128",
        fact="hot_table_lock",
        title="Even a brief exclusive lock on a hot table queues its traffic",
        severity=_W,
        lock="a mode that blocks writes, however briefly",
        why="A lock request waits for every running transaction on the table, and every "
        "new query queues behind the request: on a table listed in "
        "SAFEMIGRATE['HOT_TABLES'] a metadata-only change still causes a pile-up.",
        safe="Keep the lock timeout short with retries (safemigrate's defaults), and deploy "
        "outside peak hours.",
        bad='migrations.AddField("order", "note", models.TextField(null=True))  # hot table',
        good="safemigrate = {'lock_timeout': '50ms', 'retries': 60}",
        pg_versions="all",
        size_matters=False,
    ),
)
