from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    operations = [
        migrations.CreateModel(
            name="Pair",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("a", models.IntegerField()),
                ("b", models.IntegerField()),
                ("c", models.IntegerField()),
                ("d", models.IntegerField()),
            ],
        ),
    ]
