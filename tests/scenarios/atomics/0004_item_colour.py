from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0003_item_size")]

    operations = [migrations.AddField("item", "colour", models.TextField(null=True))]
