"""Dataset loaders: one module per dataset, reading the real on-disk formats."""


class DatasetError(ValueError):
    """The dataset on disk is not in the expected format; the message names the file and the fix."""
