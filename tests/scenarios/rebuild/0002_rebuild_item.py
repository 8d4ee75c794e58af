from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        safemigrate.operations.RebuildTableSafely(
            model_name="item",
            fields={
                "qty": models.BigIntegerField(db_index=True),
                "score": models.IntegerField(default=0),
            },
        ),
    ]
