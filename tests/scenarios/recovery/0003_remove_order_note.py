"""Drops a column with data in it: reversible for Django, not for the data."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0002_customer_phone")]
    safemigrate = {"allow": {"SM107": "no code reads the notes: they only matter to the backup"}}

    operations = [
        migrations.RemoveField("order", "note"),
    ]
