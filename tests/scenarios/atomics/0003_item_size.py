from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0002_item_note")]

    operations = [migrations.AddField("item", "size", models.TextField(null=True))]
