from django.db import migrations

from safemigrate.operations import SafeAddNotNull, SafeDeleteModel


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [SafeAddNotNull("tag", "label"), SafeDeleteModel("old")]
