"""Users, roles, password hashing and API tokens."""
