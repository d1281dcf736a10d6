"""Training of both stages: labels, lazy zarr datasets, seeded loops, checkpoints."""
