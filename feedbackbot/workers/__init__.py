"""Background workers: the scheduler (invitations, reminders, expiries, recovery); in-process by default."""
