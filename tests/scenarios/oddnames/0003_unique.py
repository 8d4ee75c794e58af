from django.db import migrations, models

from safemigrate.operations import AddUniqueConstraintConcurrently


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0002_index")]

    operations = [
        AddUniqueConstraintConcurrently(
            "legacyorder", models.UniqueConstraint(fields=["ref"], name="LegacyOrder Ref Uniq")
        ),
        AddUniqueConstraintConcurrently(
            "remote", models.UniqueConstraint(fields=["label"], name="Remote Label Uniq")
        ),
    ]
