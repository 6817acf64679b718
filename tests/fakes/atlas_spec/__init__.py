"""What the Atlas fake (``tests/fakes/atlas.py``) is built from.

- ``atlas-admin-subset.json``: MongoDB's official Atlas Administration API v2 OpenAPI spec,
  cut to the operations Gatepass uses (a copy; tests never read outside the repository).
- ``fixtures/*.http``: the real recorded Atlas responses whose shapes the fake answers in, from
  the Atlas CLI's end-to-end snapshots (Apache-2.0, personal data redacted). Only those used
  are copied; ``fixtures/INDEX.json`` (unchanged) names the source of each.
- ``contract.py``: operations, versioned media types, request-body validation, fixtures.
- ``wire.py``: Atlas's error bodies, HTTP Digest and OAuth2 checks, pagination.
- ``state.py``, ``projects.py``, ``database_users.py``, ``people.py``: the fake's memory and
  the rules Atlas enforces, one handler per spec ``operationId`` (``op_<operationId>``).
"""
