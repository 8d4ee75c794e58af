from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("scenarioapp", "0006_price_cents_contract")]

    operations = [
        safemigrate.operations.AlterFieldTypeSafely(
            model_name="item", name="id", field=models.BigAutoField(primary_key=True)
        ),
    ]
