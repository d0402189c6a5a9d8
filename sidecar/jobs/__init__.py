"""Background jobs (APScheduler): report builds, report schedules, retention. Knows services, not HTTP."""
