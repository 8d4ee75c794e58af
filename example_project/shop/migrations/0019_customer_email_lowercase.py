"""Left pending by ``./dev demo``: a data change that cannot be undone, waiting for a review.

Customers' emails become lower case, so that a sign-in can look them up exactly. The case
they were typed in is lost, so there is no reverse: safemigrate's analysis reports it
(SM115), the runbook lists it under irreversible steps and asks for a backup first, and with
``--require-approval`` it waits for someone to approve it in the admin
(/admin/safemigrate/review/pending/).
"""

from django.db import migrations
from django.db.models.functions import Lower


def lowercase_emails(apps, schema_editor):
    customer = apps.get_model("shop", "Customer")
    customer.objects.exclude(email_address=Lower("email_address")).update(
        email_address=Lower("email_address")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0018_customer_email_address_contract"),
    ]

    operations = [
        migrations.RunPython(lowercase_emails),
    ]
