"""Use cases: ingest, queries, accounts. Async, built on the store's writer and read pool."""
