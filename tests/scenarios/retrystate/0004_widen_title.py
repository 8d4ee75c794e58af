from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0003_rename_then_tag")]

    operations = [
        migrations.AlterField("item", "title", models.CharField(max_length=200)),
    ]
