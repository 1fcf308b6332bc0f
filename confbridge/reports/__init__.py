"""Reports: call detail records, use, punctuality and reliability, availability (issue 15)."""
