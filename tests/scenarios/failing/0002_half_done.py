"""A non-atomic migration whose second statement fails: the first stays applied."""

from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        migrations.AddField("item", "note", models.TextField(null=True)),
        migrations.RunSQL(
            "ALTER TABLE scenarioapp_item ADD COLUMN note text", migrations.RunSQL.noop
        ),
    ]
