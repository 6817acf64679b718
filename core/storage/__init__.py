"""The database: tables, sessions, migrations, and the records kept there (the audit chain, chat
accounts, integration accounts, discovered resources, seen deliveries)."""
