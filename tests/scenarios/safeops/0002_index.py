from django.db import migrations, models

from safemigrate.operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        AddIndexConcurrently("item", models.Index(fields=["name"], name="item_name_idx")),
    ]
