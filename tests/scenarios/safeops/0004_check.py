from django.db import migrations, models

from safemigrate.operations import AddConstraintNotValid, ValidateConstraint


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0003_unique")]

    operations = [
        AddConstraintNotValid(
            "item", models.CheckConstraint(condition=models.Q(qty__gte=0), name="item_qty_gte_0")
        ),
        ValidateConstraint("item", "item_qty_gte_0"),
    ]
