"""The scheduler process: one leader (a fenced lease in the database) driving the launch engine."""
