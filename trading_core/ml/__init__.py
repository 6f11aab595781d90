"""Model training, validation splits, information-coefficient metrics and the model registry."""
