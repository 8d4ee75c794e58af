from django.db import migrations
from django.db.models import F

from safemigrate.operations import Backfill


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0008_alter_field")]

    operations = [
        Backfill("odd", {"choice": F("choice") + 1}, reverse_values={"choice": F("choice") - 1}),
    ]
