from django.db import migrations, models

from safemigrate.operations import AddFieldSafely


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0003_drop")]

    operations = [AddFieldSafely("tag", "related", models.ManyToManyField("scenarioapp.tag"))]
