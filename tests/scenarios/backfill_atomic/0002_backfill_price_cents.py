from django.db import migrations
from django.db.models import F

import safemigrate.operations


class Migration(migrations.Migration):
    dependencies = [
        ("scenarioapp", "0001_initial"),
        ("safemigrate", "0003_backfill_state"),
    ]

    operations = [
        safemigrate.operations.Backfill("product", values={"price_cents": F("price") * 100}),
    ]
