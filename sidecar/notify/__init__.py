"""Delivery adapters: signed webhooks over a pinned, vetted address, and email over SMTP. No storage, no policy."""
