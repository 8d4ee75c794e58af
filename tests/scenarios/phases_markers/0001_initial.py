from django.db import migrations, models
from django_safemigrate import Safe


class Migration(migrations.Migration):
    initial = True
    safe = Safe.before_deploy()

    operations = [
        migrations.CreateModel(
            name="Item",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("name", models.CharField(max_length=100)),
            ],
        ),
    ]
