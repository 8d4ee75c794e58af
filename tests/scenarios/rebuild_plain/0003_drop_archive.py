from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0002_rebuild_item")]

    operations = []
