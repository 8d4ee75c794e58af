from django.db import migrations

from safemigrate.operations import RemoveIndexConcurrently


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0013_detach")]

    operations = [
        RemoveIndexConcurrently("odd", "Odd Name Idx"),
        RemoveIndexConcurrently("remote", "Remote Label Idx"),
    ]
