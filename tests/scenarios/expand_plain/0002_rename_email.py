from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        migrations.RenameField(model_name="item", old_name="email", new_name="email_address"),
    ]
