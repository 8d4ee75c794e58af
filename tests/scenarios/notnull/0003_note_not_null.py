from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0002_note_check")]

    operations = [migrations.AlterField("item", "note", models.TextField())]
