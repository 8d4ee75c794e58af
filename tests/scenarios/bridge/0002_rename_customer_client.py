from django.db import migrations

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        safemigrate.operations.RenameModelSafely(old_name="Customer", new_name="Client"),
    ]
