"""A type change that rewrites the table under ACCESS EXCLUSIVE: acknowledged, but risky."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0002_item_note")]

    operations = [
        migrations.AlterField("item", "quantity", models.BigIntegerField(default=0)),
    ]

    safemigrate = {"allow": {"SM104": "run in the maintenance window"}}
