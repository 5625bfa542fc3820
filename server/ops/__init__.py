"""Running Doorstep for an authority: backup and restore of the database file (``backup``,
``restore``; docs/backup.md) and subject access exports (``subject``, with its admin page in
``pages``)."""
