"""The daily live path: positions, trade generation, safety checks and monitoring."""
