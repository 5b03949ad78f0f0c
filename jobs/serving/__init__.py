"""Serving: an HTTP endpoint that answers with one model version loaded from ZenML."""
