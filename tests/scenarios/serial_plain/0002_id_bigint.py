from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        migrations.AlterField("ticket", "id", models.BigAutoField(primary_key=True)),
    ]
