from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    operations = [
        migrations.CreateModel(
            name="Tag",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("label", models.CharField(max_length=20, null=True)),
            ],
        ),
        migrations.CreateModel(name="Old", fields=[("id", models.BigAutoField(primary_key=True))]),
    ]
