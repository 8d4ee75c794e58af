"""Drops a NOT NULL column: unapplying adds it back NOT NULL, with no value for old rows."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0001_initial")]
    safemigrate = {"allow": {"SM107": "the scenario drops what nothing reads"}}

    operations = [migrations.RemoveField("item", "code")]
