from django.db import migrations

from safemigrate.operations import RemoveFieldFromState


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0009_backfill")]

    operations = [RemoveFieldFromState("remote", "memo")]
