"""A contract whose expand was never written (or was deleted): the check refuses it."""

from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        safemigrate.operations.FinishRenameField(
            model_name="item",
            old_name="email",
            new_name="email_address",
            old_field=models.EmailField(unique=True),
        ),
    ]
