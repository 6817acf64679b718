"""The pure domain: lifecycle, routing, permissions, durations, errors, messages, read models and
the ports core talks through. Nothing here touches the database or the job queue."""
