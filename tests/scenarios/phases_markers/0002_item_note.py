from django.db import migrations, models
from django_safemigrate import Safe


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0001_initial")]
    # The form django-safemigrate's README shows, uncalled.
    safe = Safe.always

    operations = [migrations.AddField("item", "note", models.TextField(null=True))]
