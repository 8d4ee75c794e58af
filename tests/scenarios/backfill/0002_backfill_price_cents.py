from django.db import migrations, models
from django.db.models import F, Q
from django.db.models.functions import Cast

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("scenarioapp", "0001_initial"),
        ("safemigrate", "0003_backfill_state"),
    ]

    operations = [
        safemigrate.operations.Backfill(
            model_name="product",
            values={
                "price_cents": Cast(F("price") * 100, models.BigIntegerField()),
                "touched": F("touched") + 1,
            },
            filter=Q(price_cents__isnull=True),
            reverse_values={"price_cents": None, "touched": F("touched") - 1},
        ),
    ]
