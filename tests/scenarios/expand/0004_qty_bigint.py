from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("scenarioapp", "0003_rename_email_contract")]

    operations = [
        safemigrate.operations.AlterFieldTypeSafely(
            model_name="item",
            name="qty",
            field=models.PositiveBigIntegerField(db_index=True, db_default=1),
        ),
    ]
