from django.db import migrations, models

from safemigrate.operations import SetNotNull


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0004_check")]

    operations = [
        SetNotNull("odd", "choice", models.IntegerField(db_column="select")),
        SetNotNull("remote", "amount", models.IntegerField(db_column="Amount")),
    ]
