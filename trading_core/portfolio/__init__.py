"""Portfolio construction: from scores and a regime to capped long-only target weights."""
