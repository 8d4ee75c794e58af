from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    operations = [
        migrations.CreateModel(
            name="Author",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("name", models.CharField(max_length=100)),
            ],
        ),
        migrations.CreateModel(
            name="Item",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("name", models.CharField(max_length=100)),
                ("qty", models.IntegerField()),
                ("code", models.CharField(max_length=10, null=True)),
                ("label", models.CharField(max_length=20, null=True)),
                (
                    "author",
                    models.ForeignKey(
                        "scenarioapp.author", models.CASCADE, db_constraint=False, null=True
                    ),
                ),
            ],
        ),
    ]
