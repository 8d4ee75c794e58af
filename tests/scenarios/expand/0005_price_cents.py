from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("scenarioapp", "0004_qty_bigint")]

    operations = [
        safemigrate.operations.RenameFieldSafely(
            model_name="item",
            old_name="price",
            new_name="price_cents",
            field=models.BigIntegerField(),
            using="price * 100",
            reverse_using="price_cents / 100.0",
        ),
    ]
