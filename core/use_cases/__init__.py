"""What people do with Gatepass — submit, cancel, extend, decide, revoke, reveal — and the reads
they may make. Every edge calls these; none of them knows a chat platform."""
