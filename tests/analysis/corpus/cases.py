"""Corpus cases: one migration each, on top of ``base.BaseMigration``.

``expected`` lists the rule ids found, sorted, with ``/info`` or ``/warning`` (...) when the
context changed a rule's default severity. ``dangerous`` is the ground truth the benchmark
scores tools against: would this migration, deployed as is on a large table in use, block
traffic, break the deployed code, lose data or fail to roll back?
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.functions import RandomUUID
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models
from django.db.models import F, Q
from django.db.models.functions import Now

ORDER = "scenarioapp_order"
NOOP = migrations.RunSQL.noop


def fill(apps: Any, schema_editor: Any) -> None:
    """A data migration's body; the corpus only analyses it."""


@dataclass(frozen=True)
class Case:
    name: str
    operations: list[Any]
    expected: tuple[str, ...]
    dangerous: bool
    atomic: bool = True
    rows: int | None = None
    hot: bool = False
    allow: dict[str, str] = field(default_factory=dict)
    #: Operations of an earlier migration, taken as applied: they shape the state only.
    earlier: list[Any] = field(default_factory=list)


def sql(statement: str, reverse: Any = NOOP) -> migrations.RunSQL:
    return migrations.RunSQL(statement, reverse)


def _tag(*fields: tuple[str, Any]) -> migrations.CreateModel:
    return migrations.CreateModel("Tag", [("id", models.BigAutoField(primary_key=True)), *fields])


_LABEL = ("label", models.CharField(max_length=20, null=True))

CASES: tuple[Case, ...] = (
    # SM101 volatile default
    Case(
        "volatile_db_default",
        [migrations.AddField("order", "token", models.UUIDField(db_default=RandomUUID()))],
        ("SM101",),
        True,
    ),
    Case(
        "bigserial_column_sql",
        [sql(f"ALTER TABLE {ORDER} ADD COLUMN seq bigserial")],
        ("SM101",),
        True,
    ),
    Case(
        "constant_default",
        [migrations.AddField("order", "paid", models.BooleanField(default=False))],
        (),
        False,
    ),
    Case(
        "stable_db_default_now",
        [migrations.AddField("order", "seen_at", models.DateTimeField(db_default=Now()))],
        (),
        False,
    ),
    # SM102 NOT NULL without default
    Case(
        "not_null_no_default_sql",
        [sql(f"ALTER TABLE {ORDER} ADD COLUMN ref text NOT NULL")],
        ("SM102",),
        True,
    ),
    Case(
        "not_null_with_default_sql",
        [sql(f"ALTER TABLE {ORDER} ADD COLUMN ref text NOT NULL DEFAULT ''")],
        (),
        False,
    ),
    # SM103 SET NOT NULL
    Case(
        "set_not_null",
        [migrations.AlterField("order", "note", models.TextField())],
        ("SM103",),
        True,
    ),
    Case(
        "set_not_null_with_default",
        [migrations.AlterField("order", "note", models.TextField(default=""))],
        ("SM103", "SM117"),
        True,
    ),
    Case(
        "set_not_null_after_validated_check",
        [
            sql(f"ALTER TABLE {ORDER} ADD CONSTRAINT note_nn CHECK (note IS NOT NULL) NOT VALID"),
            sql(f"ALTER TABLE {ORDER} VALIDATE CONSTRAINT note_nn"),
            sql(f"ALTER TABLE {ORDER} ALTER COLUMN note SET NOT NULL"),
        ],
        (),
        False,
        atomic=False,
    ),
    Case(
        "drop_not_null",
        [
            migrations.AlterField(
                "order", "status", models.CharField(max_length=20, default="new", null=True)
            )
        ],
        (),
        False,
    ),
    Case(
        "set_not_null_after_check_added_validated",
        [
            migrations.AddConstraint(
                "order", models.CheckConstraint(condition=Q(note__isnull=False), name="note_nn")
            ),
            migrations.AlterField("order", "note", models.TextField()),
        ],
        ("SM113",),
        True,
    ),
    Case(
        "set_not_null_proven_by_earlier_check",
        [migrations.AlterField("order", "note", models.TextField())],
        (),
        False,
        earlier=[
            migrations.AddConstraint(
                "order",
                models.CheckConstraint(
                    condition=Q(note__isnull=False) & ~Q(note=""), name="order_note_nn"
                ),
            )
        ],
    ),
    Case(
        "set_not_null_not_proven_by_other_check",
        [migrations.AlterField("order", "note", models.TextField())],
        ("SM103",),
        True,
        earlier=[
            migrations.AddConstraint(
                "order",
                models.CheckConstraint(
                    condition=Q(note__isnull=False) | Q(status="draft"), name="order_note_nn"
                ),
            )
        ],
    ),
    # SM104 type change
    Case(
        "int_to_bigint",
        [migrations.AlterField("order", "quantity", models.BigIntegerField(default=1))],
        ("SM104",),
        True,
    ),
    Case(
        "shrink_varchar",
        [migrations.AlterField("order", "code", models.CharField(max_length=5, null=True))],
        ("SM104",),
        True,
    ),
    Case(
        "text_to_int_sql",
        [sql(f"ALTER TABLE {ORDER} ALTER COLUMN legacy TYPE integer USING legacy::integer")],
        ("SM104",),
        True,
    ),
    Case(
        "widen_varchar",
        [migrations.AlterField("order", "code", models.CharField(max_length=50, null=True))],
        (),
        False,
    ),
    Case(
        "varchar_to_text",
        [migrations.AlterField("order", "code", models.TextField(null=True))],
        (),
        False,
    ),
    Case(
        "widen_varchar_sql",
        [sql(f"ALTER TABLE {ORDER} ALTER COLUMN status TYPE varchar(200)")],
        (),
        False,
    ),
    Case(
        "widen_a_column_the_plan_added_sql",
        [
            sql(f"ALTER TABLE {ORDER} ADD COLUMN ref varchar(8)"),
            sql(f"ALTER TABLE {ORDER} ALTER COLUMN ref TYPE varchar(20)"),
        ],
        (),
        False,
    ),
    Case(
        "narrow_a_column_the_plan_added_sql",
        [
            sql(f"ALTER TABLE {ORDER} ADD COLUMN ref varchar(20)"),
            sql(f"ALTER TABLE {ORDER} ALTER COLUMN ref TYPE varchar(8)"),
        ],
        ("SM104",),
        True,
    ),
    Case(
        "typed_table_sql",
        [
            sql("CREATE TYPE scenarioapp_pair_type AS (a integer, b text)"),
            sql(
                "CREATE TABLE scenarioapp_typed OF scenarioapp_pair_type (a WITH OPTIONS NOT NULL)"
            ),
        ],
        (),
        False,
    ),
    Case(
        "widen_numeric",
        [
            migrations.AlterField(
                "order", "total", models.DecimalField(max_digits=14, decimal_places=2)
            )
        ],
        (),
        False,
    ),
    Case(
        "db_comment_only",
        [
            migrations.AlterField(
                "order", "quantity", models.IntegerField(default=1, db_comment="Items ordered")
            )
        ],
        (),
        False,
    ),
    Case(
        "foreign_key_db_comment_only",
        [
            migrations.AlterField(
                "order",
                "customer",
                models.ForeignKey(
                    "scenarioapp.Customer", models.PROTECT, null=True, db_comment="Who ordered"
                ),
            )
        ],
        (),
        False,
    ),
    Case(
        "same_type_sql",
        [sql(f"ALTER TABLE {ORDER} ALTER COLUMN quantity TYPE integer")],
        (),
        False,
    ),
    Case(
        "int_to_bigint_small_table",
        [migrations.AlterField("order", "quantity", models.BigIntegerField(default=1))],
        ("SM104/info",),
        False,
        rows=300,
    ),
    # SM105 / SM106 renames
    Case("rename_column", [migrations.RenameField("order", "legacy", "old")], ("SM105",), True),
    Case(
        "rename_column_new_table",
        [_tag(_LABEL), migrations.RenameField("tag", "label", "name")],
        (),
        False,
    ),
    Case(
        "rename_table",
        [migrations.AlterModelTable("order", "scenarioapp_purchase")],
        ("SM106",),
        True,
    ),
    Case(
        "rename_table_new_table",
        [_tag(), migrations.AlterModelTable("tag", "scenarioapp_label")],
        (),
        False,
    ),
    Case("table_comment_only", [migrations.AlterModelTableComment("order", "Orders")], (), False),
    # SM107 / SM108 drops
    Case("drop_column", [migrations.RemoveField("order", "legacy")], ("SM107",), True),
    Case(
        "drop_column_state_only",
        [
            migrations.SeparateDatabaseAndState(
                state_operations=[migrations.RemoveField("order", "legacy")]
            )
        ],
        (),
        False,
    ),
    Case("drop_table", [migrations.DeleteModel("coupon")], ("SM108",), True),
    Case(
        "drop_table_state_only",
        [migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel("coupon")])],
        (),
        False,
    ),
    Case("drop_table_sql", [sql("DROP TABLE scenarioapp_coupon")], ("SM108",), True),
    # SM109 / SM110 indexes
    Case(
        "add_index",
        [migrations.AddIndex("order", models.Index(fields=["code"], name="order_code_idx"))],
        ("SM109",),
        True,
    ),
    Case(
        "add_field_db_index",
        [
            migrations.AddField(
                "order", "ref", models.CharField(max_length=20, null=True, db_index=True)
            )
        ],
        ("SM109",),
        True,
    ),
    Case(
        "add_index_sql", [sql(f"CREATE INDEX order_note_idx ON {ORDER} (note)")], ("SM109",), True
    ),
    Case(
        "add_index_concurrently",
        [AddIndexConcurrently("order", models.Index(fields=["code"], name="order_code_idx"))],
        (),
        False,
        atomic=False,
    ),
    Case(
        "add_index_concurrently_sql",
        [sql(f"CREATE INDEX CONCURRENTLY order_note_idx ON {ORDER} (note)")],
        (),
        False,
        atomic=False,
    ),
    Case(
        "add_index_new_table",
        [
            _tag(_LABEL),
            migrations.AddIndex("tag", models.Index(fields=["label"], name="tag_label_idx")),
        ],
        (),
        False,
    ),
    Case(
        "add_index_small_table",
        [migrations.AddIndex("order", models.Index(fields=["code"], name="order_code_idx"))],
        ("SM109/info",),
        False,
        rows=800,
    ),
    Case(
        "add_index_large_table_live",
        [migrations.AddIndex("order", models.Index(fields=["code"], name="order_code_idx"))],
        ("SM109",),
        True,
        rows=5_000_000,
    ),
    Case("remove_index", [migrations.RemoveIndex("order", "order_status_idx")], ("SM110",), True),
    Case(
        "remove_index_concurrently",
        [RemoveIndexConcurrently("order", "order_status_idx")],
        (),
        False,
        atomic=False,
    ),
    # SM111 unique
    Case(
        "add_unique_constraint",
        [
            migrations.AddConstraint(
                "order", models.UniqueConstraint(fields=["code"], name="order_code_uniq")
            )
        ],
        ("SM111",),
        True,
    ),
    Case(
        "unique_using_index_sql",
        [
            sql(
                f"ALTER TABLE {ORDER} ADD CONSTRAINT order_code_uniq UNIQUE USING INDEX order_code_idx"
            )
        ],
        (),
        False,
    ),
    Case(
        "unique_together_replaced_in_one_migration",
        [
            migrations.AlterUniqueTogether("order", {("status", "code")}),
            migrations.AlterUniqueTogether("order", {("status", "quantity")}),
        ],
        ("SM111", "SM111"),
        True,
    ),
    # SM131 SQL that cannot be collected
    Case(
        "rename_unnamed_index_that_does_not_exist",
        [migrations.RenameIndex("order", new_name="order_code_note", old_fields=("code", "note"))],
        ("SM131",),
        True,
    ),
    Case(
        "unique_together_of_unknown_fields",
        [migrations.AlterUniqueTogether("order", {("status", "nope")})],
        ("SM111", "SM131"),
        True,
    ),
    # SM112 foreign keys
    Case(
        "add_foreign_key_field",
        [
            migrations.AddField(
                "order",
                "coupon",
                models.ForeignKey("scenarioapp.Coupon", models.PROTECT, null=True),
            )
        ],
        ("SM109", "SM112"),
        True,
    ),
    Case(
        "add_foreign_key_sql",
        [
            sql(
                f"ALTER TABLE {ORDER} ADD CONSTRAINT order_cust_fk FOREIGN KEY (quantity) REFERENCES scenarioapp_customer (id)"
            )
        ],
        ("SM112",),
        True,
    ),
    Case(
        "add_foreign_key_not_valid_sql",
        [
            sql(
                f"ALTER TABLE {ORDER} ADD CONSTRAINT order_cust_fk FOREIGN KEY (quantity) REFERENCES scenarioapp_customer (id) NOT VALID"
            )
        ],
        (),
        False,
    ),
    Case(
        "add_foreign_key_no_constraint",
        [
            migrations.AddField(
                "order",
                "coupon",
                models.ForeignKey(
                    "scenarioapp.Coupon",
                    models.DO_NOTHING,
                    null=True,
                    db_constraint=False,
                    db_index=False,
                ),
            )
        ],
        (),
        False,
    ),
    Case(
        "add_foreign_key_small_table",
        [
            migrations.AddField(
                "order",
                "coupon",
                models.ForeignKey("scenarioapp.Coupon", models.PROTECT, null=True),
            )
        ],
        ("SM109/info", "SM112/info"),
        False,
        rows=50,
    ),
    Case(
        "create_model_with_foreign_key",
        [_tag(("order", models.ForeignKey("scenarioapp.Order", models.CASCADE)))],
        (),
        False,
    ),
    # SM113 check
    Case(
        "add_check_constraint",
        [
            migrations.AddConstraint(
                "order", models.CheckConstraint(condition=Q(total__gte=0), name="order_total_gte_0")
            )
        ],
        ("SM113",),
        True,
    ),
    Case(
        "add_check_not_valid_sql",
        [sql(f"ALTER TABLE {ORDER} ADD CONSTRAINT order_total_gte_0 CHECK (total >= 0) NOT VALID")],
        (),
        False,
    ),
    Case(
        "validate_constraint_sql",
        [
            sql(
                f"ALTER TABLE {ORDER} ADD CONSTRAINT order_total_gte_0 CHECK (total >= 0) NOT VALID"
            ),
            sql(f"ALTER TABLE {ORDER} VALIDATE CONSTRAINT order_total_gte_0"),
        ],
        (),
        False,
        atomic=False,
    ),
    Case(
        "validate_in_same_atomic_migration",
        [
            sql(
                f"ALTER TABLE {ORDER} ADD CONSTRAINT order_total_gte_0 CHECK (total >= 0) NOT VALID"
            ),
            sql(f"ALTER TABLE {ORDER} VALIDATE CONSTRAINT order_total_gte_0"),
        ],
        ("SM129",),
        True,
    ),
    Case(
        "set_not_null_pattern_in_one_transaction",
        [
            sql(f"ALTER TABLE {ORDER} ADD CONSTRAINT note_nn CHECK (note IS NOT NULL) NOT VALID"),
            sql(f"ALTER TABLE {ORDER} VALIDATE CONSTRAINT note_nn"),
            sql(f"ALTER TABLE {ORDER} ALTER COLUMN note SET NOT NULL"),
        ],
        ("SM129",),
        True,
    ),
    # SM114 exclusion
    Case(
        "add_exclusion_sql",
        [
            sql(
                f"ALTER TABLE {ORDER} ADD CONSTRAINT order_code_excl EXCLUDE USING btree (code WITH =)"
            )
        ],
        ("SM114",),
        True,
    ),
    Case(
        "add_exclusion_new_table",
        [
            _tag(_LABEL),
            sql(
                "ALTER TABLE scenarioapp_tag ADD CONSTRAINT tag_excl EXCLUDE USING btree (label WITH =)"
            ),
        ],
        (),
        False,
    ),
    # SM115 / SM116 RunPython
    Case("runpython_no_reverse", [migrations.RunPython(fill)], ("SM115",), True, atomic=False),
    Case("runpython_with_noop", [migrations.RunPython(fill, migrations.RunPython.noop)], (), False),
    Case(
        "data_with_schema",
        [
            migrations.AddField("order", "ref", models.TextField(null=True)),
            migrations.RunPython(fill, migrations.RunPython.noop),
        ],
        ("SM116",),
        True,
    ),
    Case(
        "data_with_schema_sql",
        [
            migrations.AddField("order", "ref", models.TextField(null=True)),
            sql("INSERT INTO scenarioapp_coupon (code) VALUES ('WELCOME')"),
        ],
        ("SM116",),
        True,
    ),
    Case(
        "data_and_schema_not_atomic",
        [
            migrations.AddField("order", "ref", models.TextField(null=True)),
            migrations.RunPython(fill, migrations.RunPython.noop),
        ],
        (),
        False,
        atomic=False,
    ),
    Case(
        "data_with_new_table",
        [_tag(_LABEL), migrations.RunPython(fill, migrations.RunPython.noop)],
        (),
        False,
    ),
    # SM117 unbatched updates
    Case("unbatched_update_sql", [sql(f"UPDATE {ORDER} SET status = 'new'")], ("SM117",), True),
    Case(
        "unbatched_delete_sql",
        [sql(f"DELETE FROM {ORDER} WHERE status = 'cancelled'")],
        ("SM117",),
        True,
    ),
    Case(
        "batched_update_sql",
        [
            sql(
                f"UPDATE {ORDER} SET status = 'new' WHERE id IN (SELECT id FROM {ORDER} WHERE status = '' LIMIT 1000)"
            )
        ],
        (),
        False,
    ),
    Case(
        "update_small_table",
        [sql(f"UPDATE {ORDER} SET status = 'new'")],
        ("SM117/info",),
        False,
        rows=120,
    ),
    # SM118 / SM119 RunSQL
    Case("unparseable_sql", [sql("\\i fix_orders.sql")], ("SM118",), True),
    Case("parseable_select", [sql("SELECT 1")], (), False),
    Case(
        "runsql_no_reverse",
        [migrations.RunSQL("CREATE SEQUENCE IF NOT EXISTS order_numbers")],
        ("SM119",),
        True,
    ),
    Case(
        "runsql_with_reverse",
        [sql("CREATE SEQUENCE IF NOT EXISTS order_numbers", "DROP SEQUENCE order_numbers")],
        (),
        False,
    ),
    # SM120 - SM122, SM127 hygiene
    Case("json_column_sql", [sql(f"ALTER TABLE {ORDER} ADD COLUMN meta json")], ("SM120",), False),
    Case(
        "jsonb_field",
        [migrations.AddField("order", "meta", models.JSONField(null=True))],
        (),
        False,
    ),
    Case(
        "int_primary_key",
        [migrations.CreateModel("Tag", [("id", models.AutoField(primary_key=True))])],
        ("SM121",),
        False,
    ),
    Case("bigint_primary_key", [_tag()], (), False),
    Case(
        "timestamp_without_tz_sql",
        [sql(f"ALTER TABLE {ORDER} ADD COLUMN paid_at timestamp")],
        ("SM122",),
        False,
    ),
    Case(
        "timestamptz_field",
        [migrations.AddField("order", "paid_at", models.DateTimeField(null=True))],
        (),
        False,
    ),
    Case(
        "char_column_sql", [sql(f"ALTER TABLE {ORDER} ADD COLUMN ref char(8)")], ("SM127",), False
    ),
    Case("varchar_column_sql", [sql(f"ALTER TABLE {ORDER} ADD COLUMN ref varchar(8)")], (), False),
    # SM123 rebuilds
    Case("vacuum_full", [sql(f"VACUUM FULL {ORDER}")], ("SM123",), True, atomic=False),
    Case("cluster", [sql(f"CLUSTER {ORDER} USING order_status_idx")], ("SM123",), True),
    Case(
        "reindex_concurrently",
        [sql("REINDEX INDEX CONCURRENTLY order_status_idx")],
        (),
        False,
        atomic=False,
    ),
    Case("plain_vacuum", [sql(f"VACUUM {ORDER}")], (), False, atomic=False),
    Case(
        "set_unlogged_sql", [sql("ALTER TABLE scenarioapp_coupon SET UNLOGGED")], ("SM123",), True
    ),
    Case(
        "set_statistics_sql",
        [sql(f"ALTER TABLE {ORDER} ALTER COLUMN code SET STATISTICS 500")],
        (),
        False,
    ),
    # SM130 truncate
    Case("truncate_sql", [sql("TRUNCATE scenarioapp_coupon")], ("SM130",), True),
    Case("truncate_new_table", [_tag(), sql("TRUNCATE scenarioapp_tag")], (), False),
    # SM124 stored generated column
    Case(
        "stored_generated_field",
        [
            migrations.AddField(
                "order",
                "double",
                models.GeneratedField(
                    expression=F("quantity") * 2,
                    output_field=models.IntegerField(),
                    db_persist=True,
                ),
            )
        ],
        ("SM124",),
        True,
    ),
    Case(
        "generated_field_new_table",
        [
            _tag(
                ("n", models.IntegerField(default=1)),
                (
                    "double",
                    models.GeneratedField(
                        expression=F("n") * 2, output_field=models.IntegerField(), db_persist=True
                    ),
                ),
            )
        ],
        (),
        False,
    ),
    # SM125 CONCURRENTLY in a transaction
    Case(
        "concurrently_in_atomic",
        [AddIndexConcurrently("order", models.Index(fields=["code"], name="order_code_idx"))],
        ("SM125",),
        True,
    ),
    Case(
        "concurrently_sql_in_atomic",
        [sql(f"CREATE INDEX CONCURRENTLY order_note_idx ON {ORDER} (note)")],
        ("SM125",),
        True,
    ),
    # SM126 primary key
    Case(
        "add_primary_key_sql",
        [
            sql(
                "ALTER TABLE scenarioapp_coupon DROP CONSTRAINT scenarioapp_coupon_pkey, ADD PRIMARY KEY (code)"
            )
        ],
        ("SM126",),
        True,
    ),
    Case(
        "primary_key_using_index_sql",
        [
            sql(
                "ALTER TABLE scenarioapp_coupon DROP CONSTRAINT scenarioapp_coupon_pkey, ADD CONSTRAINT coupon_pk PRIMARY KEY USING INDEX coupon_code_idx"
            )
        ],
        (),
        False,
    ),
    # SM128 hot tables
    Case(
        "hot_table_add_column",
        [migrations.AddField("order", "ref", models.TextField(null=True))],
        ("SM128",),
        True,
        hot=True,
    ),
    Case(
        "cold_table_add_column",
        [migrations.AddField("order", "ref", models.TextField(null=True))],
        (),
        False,
    ),
    Case(
        "hot_table_add_index",
        [migrations.AddIndex("order", models.Index(fields=["code"], name="order_code_idx"))],
        ("SM109", "SM128"),
        True,
        hot=True,
    ),
    Case(
        "hot_table_small_index",
        [migrations.AddIndex("order", models.Index(fields=["code"], name="order_code_idx"))],
        ("SM109/info", "SM128"),
        True,
        rows=50,
        hot=True,
    ),
    # Whole-migration shapes
    Case("merge_migration", [], (), False),
    Case(
        "choices_only",
        [
            migrations.AlterField(
                "order",
                "status",
                models.CharField(max_length=20, default="new", choices=[("new", "New")]),
            )
        ],
        (),
        False,
    ),
    Case(
        "acknowledged_index",
        [migrations.AddIndex("order", models.Index(fields=["code"], name="order_code_idx"))],
        ("SM109",),
        True,
        allow={"SM109": "the table holds 40 rows in every deployment"},
    ),
)
