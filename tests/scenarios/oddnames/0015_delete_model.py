from django.db import migrations

from safemigrate.operations import DeleteModelFromDatabase, DeleteModelFromState


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0014_drop_index")]

    operations = [
        DeleteModelFromState("dotted"),
        DeleteModelFromDatabase("legacy.dotted"),
    ]
