from django.db import migrations

import safemigrate.operations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0002_rebuild_item")]

    operations = [safemigrate.operations.FinishRebuildTable(model_name="item")]
