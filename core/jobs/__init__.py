"""Durable work: the job queue and its worker, the job kinds, the grant steps and the notices."""
