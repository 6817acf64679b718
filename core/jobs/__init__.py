"""Durable work: the job queue and its worker (queue), every job's kind, key and payload (kinds),
what each job does (handlers, granting, escalation) and the notices sent through the chat
platforms (notices)."""
