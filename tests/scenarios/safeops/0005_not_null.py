from django.db import migrations, models

from safemigrate.operations import SetNotNull


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0004_check")]

    operations = [SetNotNull("item", "qty", models.IntegerField())]
