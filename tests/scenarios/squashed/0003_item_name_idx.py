from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0002_item_note")]

    operations = [
        migrations.AddIndex("item", models.Index(fields=["name"], name="item_name_idx")),
    ]
