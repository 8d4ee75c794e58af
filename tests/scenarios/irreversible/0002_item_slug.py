"""Fills a new column with Python code that has no way back: the rollback must refuse."""

from django.db import migrations, models


def fill_slugs(apps, schema_editor):
    Item = apps.get_model("scenarioapp", "Item")
    for item in Item.objects.all():
        item.slug = item.name.lower()
        item.save(update_fields=["slug"])


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0001_initial")]
    safemigrate = {"allow": {"SM116": "a handful of rows: the lock is held for milliseconds"}}

    operations = [
        migrations.AddField("item", "slug", models.CharField(max_length=100, null=True)),
        migrations.RunPython(fill_slugs),
    ]
