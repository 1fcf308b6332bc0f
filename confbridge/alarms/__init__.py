"""Alarms: raised by the launch engine and the monitor, acknowledged and cleared by technicians."""
