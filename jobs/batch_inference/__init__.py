"""Batch inference: whatever model is in production predicts on a table of features."""
