"""Finding things in a picture (faces) for workflows to work on: pure functions on numpy arrays."""
