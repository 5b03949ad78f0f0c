"""Job-agnostic code every handoff job may import."""
