"""Persistence: Peewee models, migrations, the single writer thread and the read pool. Knows nothing of HTTP."""
