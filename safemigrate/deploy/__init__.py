"""Deploys: which migrations run before the new code is live, which only once the old is gone.

``phases`` tells each operation's place in the expand/contract pattern and each migration's
deploy phase (declared, marked for another tool in ``markers``, or inferred from its
operations, as data); ``split`` cuts a plan at the first post-deploy migration of each app
for ``--phase pre``; ``shipped`` says which migrations a process's code ships, compactly;
``heartbeat`` records each live application process; ``livegate`` holds a post-deploy
migration until no live process runs code without it; ``policy`` hands both to the guarded
run.

May import: ``postgres/`` and the app's face. The guard never imports it: the command hands
``policy`` to the guarded executor as an object the guard only knows by its shape.
"""
