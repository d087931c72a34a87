"""Scheduled jobs: what each does, when it is due, and the record of every run (`job_run`)."""
