"""HTTP routes, one module per area; each stays thin and calls sync/ and the storage layer."""
