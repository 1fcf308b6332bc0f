"""The launch engine: conference runs per occurrence, their state machine, dialling, reconcile, timeline."""
