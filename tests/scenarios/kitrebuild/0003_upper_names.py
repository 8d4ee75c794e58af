"""Irreversible on purpose: the names' case is not kept."""

from django.db import migrations
from django.db.models.functions import Upper


def upper_names(apps, schema_editor):
    apps.get_model("scenarioapp", "Item").objects.update(name=Upper("name"))


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0002_leaves_a_table_behind")]

    operations = [migrations.RunPython(upper_names)]
