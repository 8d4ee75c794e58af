"""(c) safemigrate's Backfill, with its default settings."""

from django.db import migrations, models
from django.db.models import F, Q
from django.db.models.functions import Cast

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("backfillapp", "0001_initial")]

    operations = [
        safemigrate.operations.Backfill(
            model_name="product",
            values={"price_cents": Cast(F("price") * 100, models.BigIntegerField())},
            filter=Q(price_cents__isnull=True),
            reverse_values={"price_cents": None},
        ),
    ]
