"""The review workflow: the runbook of a plan, its checklist, reviews and the approval gate.

``inspection`` describes each pending operation (lock, tables, phase, duration, findings),
``impact`` says what it does to running code, ``storm`` the worst stall a lock storm could
cause with the settings, ``runbook`` and ``render`` print it,
``checklist`` and ``reviews`` record what reviewers ticked and approved, ``gate`` refuses
what nobody approved.

May import: ``analysis/`` (the findings), ``postgres/`` and the app's face. It reads the
history; the guard never imports it.
"""
