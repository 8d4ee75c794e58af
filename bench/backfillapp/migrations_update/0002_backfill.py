"""(a) One UPDATE of every row, as Django writes it: a RunPython calling QuerySet.update()."""

from django.db import migrations, models
from django.db.models import F
from django.db.models.functions import Cast

from bench.backfillapp.timing import timed


@timed
def fill(apps, schema_editor):
    Product = apps.get_model("backfillapp", "Product")
    Product.objects.filter(price_cents__isnull=True).update(
        price_cents=Cast(F("price") * 100, models.BigIntegerField())
    )


class Migration(migrations.Migration):
    dependencies = [("backfillapp", "0001_initial")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
