"""Training: datasets by name -> a classifier on the ZenML Model, promoted if it earns it."""
