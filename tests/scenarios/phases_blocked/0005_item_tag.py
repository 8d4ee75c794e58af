from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0004_remove_item_legacy_from_database")]

    operations = [migrations.AddField("item", "tag", models.TextField(null=True))]
