"""The function the scenario's ``RunBackfill`` calls (the loader skips modules named ``_*``)."""


def double_values(apps, batch):
    from django.db.models import F

    return batch.update(value=F("value") * 2)


def halve_values(apps, batch):
    from django.db.models import F

    return batch.update(value=F("value") / 2)
