from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        safemigrate.operations.AlterFieldTypeSafely(
            model_name="ticket", name="id", field=models.BigAutoField(primary_key=True)
        ),
    ]
