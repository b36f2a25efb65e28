"""One module per CLI command; ``nemwatch.cli`` imports each lazily."""
