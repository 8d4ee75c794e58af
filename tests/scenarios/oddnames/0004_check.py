from django.db import migrations, models

from safemigrate.operations import AddConstraintNotValid, ValidateConstraint

CHECK = models.CheckConstraint(condition=models.Q(amount__gte=0), name="Remote Amount Check")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0003_unique")]

    operations = [
        AddConstraintNotValid("remote", CHECK),
        ValidateConstraint("remote", "Remote Amount Check"),
    ]
