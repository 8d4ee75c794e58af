from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("scenarioapp", "0002_rename_email")]

    operations = [
        safemigrate.operations.FinishRenameField(
            model_name="item",
            old_name="email",
            new_name="email_address",
            old_field=models.EmailField(unique=True),
        ),
    ]
