from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    operations = [
        migrations.CreateModel(
            name="Probe",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("source", models.CharField(max_length=50)),
                ("lock_timeout", models.CharField(max_length=20)),
                ("statement_timeout", models.CharField(max_length=20)),
            ],
        ),
    ]
