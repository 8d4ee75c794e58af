from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="Item",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("name", models.CharField(max_length=100)),
            ],
        ),
    ]
