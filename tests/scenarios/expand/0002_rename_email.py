from django.db import migrations

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        safemigrate.operations.RenameFieldSafely(
            model_name="item", old_name="email", new_name="email_address"
        ),
    ]
