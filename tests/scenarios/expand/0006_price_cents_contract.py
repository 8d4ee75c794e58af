from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("scenarioapp", "0005_price_cents")]

    operations = [
        safemigrate.operations.FinishRenameField(
            model_name="item",
            old_name="price",
            new_name="price_cents",
            old_field=models.DecimalField(max_digits=10, decimal_places=2),
            using="price * 100",
            reverse_using="price_cents / 100.0",
        ),
    ]
