from django.db import migrations

from safemigrate.operations import RemoveFieldFromState


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0009_db_default")]

    operations = [RemoveFieldFromState("item", "note")]
