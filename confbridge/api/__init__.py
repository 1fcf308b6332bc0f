"""REST API plumbing shared by the feature blueprints (``/api/v1``)."""
