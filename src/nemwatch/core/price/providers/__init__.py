"""One module per price source; each parses its answers into typed objects at the edge."""
