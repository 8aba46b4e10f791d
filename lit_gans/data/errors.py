"""Errors raised by the data package."""


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is not on disk and could not be downloaded; the message says how to fix it."""
