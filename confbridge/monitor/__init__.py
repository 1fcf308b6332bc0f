"""Monitoring: endpoint status (probes + participant polling), status history and monitor alarms."""
