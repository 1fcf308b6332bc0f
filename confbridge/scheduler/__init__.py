"""The scheduler process: fenced leases in the database (one per bridge, one global) driving the launch engine."""
