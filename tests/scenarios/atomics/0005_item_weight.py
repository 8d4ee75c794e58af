from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0004_item_colour")]

    operations = [migrations.AddField("item", "weight", models.TextField(null=True))]
