"""A data migration without a backwards step: it cannot be unapplied."""

from django.db import migrations


def upper_names(apps, schema_editor):
    item = apps.get_model("scenarioapp", "Item")
    for row in item.objects.using(schema_editor.connection.alias):
        row.name = row.name.upper()
        row.save()


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [migrations.RunPython(upper_names)]
