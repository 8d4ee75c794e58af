"""Hygiene rules: types that work today and cost a rewrite later."""

from __future__ import annotations

from safemigrate.analysis.rules.model import Rule, Severity

_I = Severity.INFO
_NONE = "none (a choice of type)"

HYGIENE_RULES: tuple[Rule, ...] = (
    Rule(
        id="SM120",
        fact="json_column",
        title="Prefer jsonb to json",
        severity=_I,
        lock=_NONE,
        why="json keeps the text as written: no equality operator, no GIN index, and "
        "converting to jsonb later rewrites the table.",
        safe="Use jsonb (Django's JSONField already does).",
        bad='migrations.RunSQL("ALTER TABLE shop_order ADD COLUMN meta json")',
        good='migrations.AddField("order", "meta", models.JSONField(null=True))',
        pg_versions="all",
        size_matters=False,
        new_table_safe=False,
    ),
    Rule(
        id="SM121",
        fact="int_primary_key",
        title="A 32-bit integer primary key will overflow",
        severity=_I,
        lock=_NONE,
        why="integer keys stop at 2,147,483,647; widening to bigint later rewrites the table "
        "and every table that references it.",
        safe="Use BigAutoField (DEFAULT_AUTO_FIELD = 'django.db.models.BigAutoField').",
        bad='("id", models.AutoField(primary_key=True))',
        good='("id", models.BigAutoField(primary_key=True))',
        pg_versions="all",
        size_matters=False,
        new_table_safe=False,
    ),
    Rule(
        id="SM122",
        fact="timestamp_without_tz",
        title="Prefer timestamptz to timestamp without time zone",
        severity=_I,
        lock=_NONE,
        why="timestamp without time zone stores wall-clock time with no offset: values "
        "become ambiguous across time zones and daylight saving changes.",
        safe="Use timestamptz (Django's DateTimeField with USE_TZ = True).",
        bad='migrations.RunSQL("ALTER TABLE shop_order ADD COLUMN paid_at timestamp")',
        good='migrations.AddField("order", "paid_at", models.DateTimeField(null=True))',
        pg_versions="all",
        size_matters=False,
        new_table_safe=False,
    ),
    Rule(
        id="SM127",
        fact="char_column",
        title="Prefer text or varchar to char(n)",
        severity=_I,
        lock=_NONE,
        why="char(n) pads values with spaces and is no faster than text in PostgreSQL.",
        safe="Use text or varchar (models.TextField, models.CharField).",
        bad='migrations.RunSQL("ALTER TABLE shop_order ADD COLUMN code char(8)")',
        good='migrations.AddField("order", "code", models.CharField(max_length=8, null=True))',
        pg_versions="all",
        size_matters=False,
        new_table_safe=False,
    ),
)
