from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0002_item_name_idx")]

    safemigrate = {"allow": {"SM104": "scenarioapp_item is a lookup table of 30 rows"}}

    operations = [
        migrations.AlterField("item", "quantity", models.BigIntegerField(default=0)),
    ]
