from django.db import migrations

from safemigrate.operations import DeleteModelFromDatabase, SafeRemoveField


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0002_not_null_and_delete_model")]

    operations = [DeleteModelFromDatabase("scenarioapp_old"), SafeRemoveField("tag", "label")]
