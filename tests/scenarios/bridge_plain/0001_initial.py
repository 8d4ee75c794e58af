from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    operations = [
        migrations.CreateModel(
            name="Customer",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("email", models.EmailField(unique=True)),
                ("referrer", models.ForeignKey("self", models.SET_NULL, null=True)),
            ],
        ),
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("total", models.IntegerField(default=0)),
                ("customer", models.ForeignKey("scenarioapp.customer", models.CASCADE)),
            ],
        ),
    ]
