"""Deployment: put the production model version behind an HTTP endpoint, idempotently."""
