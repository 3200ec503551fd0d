"""Dataset loaders: one module per dataset, reading the real on-disk formats."""
