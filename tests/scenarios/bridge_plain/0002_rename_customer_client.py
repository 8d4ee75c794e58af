from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        migrations.RenameModel(old_name="Customer", new_name="Client"),
    ]
