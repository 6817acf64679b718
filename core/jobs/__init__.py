"""Durable work: the job queue and its worker (queue, with what a job and its handler agree on
in contract), every job's kind, key and payload (kinds), what each job does (handlers; granting,
extending and ending a grant, its window and its password: granting, extending, ending,
windows, passwords; escalation) and the notices sent through the chat platforms (notices)."""
