from django.db import migrations, models

from safemigrate.operations import AddFieldSafely


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0007_volatile_default")]

    operations = [
        AddFieldSafely("item", "status", models.CharField(default="new", max_length=10)),
    ]
