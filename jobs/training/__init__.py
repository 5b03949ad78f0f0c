"""Training: datasets by name -> a scikit-learn model on the ZenML Model, promoted if it earns it."""
