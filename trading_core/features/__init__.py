"""Features (known at the close of t) and labels (forward returns) on wide price frames."""
