from django.db import migrations, models

from safemigrate.operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        AddIndexConcurrently("odd", models.Index(fields=["name"], name="Odd Name Idx")),
        AddIndexConcurrently("remote", models.Index(fields=["label"], name="Remote Label Idx")),
    ]
