from django.db import migrations

from safemigrate.operations import RemoveIndexConcurrently


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0011_remove_from_database")]

    operations = [RemoveIndexConcurrently("item", "item_name_idx")]
