"""Workflow rules shared by the services (pure Python: no framework, no I/O)."""
