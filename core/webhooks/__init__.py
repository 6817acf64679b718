"""Outbound webhooks: request events sent, signed, to the receivers the config names.

``outbox`` queues a delivery (and its job) in the transaction of the change that caused it;
``delivery`` is that job's handler; ``sender`` speaks HTTP; ``signing`` signs and verifies;
``payload`` builds the body, whose JSON Schema is ``payload.schema.json`` beside it.
"""
