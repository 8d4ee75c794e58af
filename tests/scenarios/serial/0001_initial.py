"""A table whose key is a ``serial`` column, as Django made them before 4.1: a sequence the
column owns and draws its default from, no identity."""

from django.db import migrations, models

SERIAL = """
ALTER TABLE scenarioapp_ticket ALTER COLUMN id DROP IDENTITY;
CREATE SEQUENCE scenarioapp_ticket_id_seq OWNED BY scenarioapp_ticket.id;
ALTER TABLE scenarioapp_ticket ALTER COLUMN id SET DEFAULT nextval('scenarioapp_ticket_id_seq');
"""


class Migration(migrations.Migration):
    initial = True

    dependencies = [("safemigrate", "0003_backfill_state")]

    operations = [
        migrations.CreateModel(
            name="Ticket",
            fields=[
                ("id", models.AutoField(primary_key=True)),
                ("title", models.CharField(max_length=50, db_default="untitled")),
            ],
        ),
        migrations.RunSQL(SERIAL, migrations.RunSQL.noop),
    ]
