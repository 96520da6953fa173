"""The audit log: who did what and when (write with :func:`audit.log.record`)."""
