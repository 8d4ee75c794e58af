"""A model and one of each kind of object a migration can make with SQL: a rebuild below a
later migration drops them all, or applying this one again would find them there."""

from django.db import migrations, models

MADE = [
    ("CREATE TYPE scenarioapp_mood AS ENUM ('ok', 'not ok')", "DROP TYPE scenarioapp_mood"),
    (
        "CREATE DOMAIN scenarioapp_positive AS integer CHECK (VALUE > 0)",
        "DROP DOMAIN scenarioapp_positive",
    ),
    (
        "CREATE FUNCTION scenarioapp_answer() RETURNS integer LANGUAGE sql AS 'SELECT 42'",
        "DROP FUNCTION scenarioapp_answer()",
    ),
    ("CREATE SEQUENCE scenarioapp_counter", "DROP SEQUENCE scenarioapp_counter"),
    ('CREATE COLLATION scenarioapp_c FROM "C"', "DROP COLLATION scenarioapp_c"),
    # A renamed model's identity sequence keeps its old name: here it sorts before the table.
    (
        "CREATE TABLE scenarioapp_log "
        "(id integer GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME scenarioapp_a_log_seq))",
        "DROP TABLE scenarioapp_log",
    ),
    (
        "CREATE VIEW scenarioapp_names AS SELECT name FROM scenarioapp_item",
        "DROP VIEW scenarioapp_names",
    ),
]


class Migration(migrations.Migration):
    initial = True

    operations = [
        migrations.CreateModel(
            name="Item",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("name", models.CharField(max_length=100)),
            ],
        ),
        *(migrations.RunSQL(sql, reverse) for sql, reverse in MADE),
    ]
