"""The review workflow: the runbook of a plan, its checklist, reviews and the approval gate.

``inspection`` describes each pending operation from the analysis's judged plan (lock,
tables, duration, findings) with what reviewers add (phase, reversibility, the fingerprint),
``impact`` says what it does to running code, ``rollback`` where undoing it goes back to,
``storm`` the worst stall a lock storm could cause with the settings, ``runbook`` and
``render`` print it, ``reviews`` records what reviewers ticked and approved, ``gate`` refuses
what nobody approved, and what the analysis finds unsafe, on one judged plan; ``window``
refuses risky migrations outside the maintenance windows, on the same plan.

May import: ``analysis/`` (the findings), ``postgres/`` and the app's face. It reads the
history; the guard never imports it.
"""
