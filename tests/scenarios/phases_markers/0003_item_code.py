from datetime import timedelta

from django.db import migrations, models
from django_safemigrate import Safe


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0002_item_note")]
    # Nothing here breaks old code, but its author said: only after the deploy.
    safe = Safe.after_deploy(delay=timedelta(days=1))

    operations = [migrations.AddField("item", "code", models.TextField(null=True))]
