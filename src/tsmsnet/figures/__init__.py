"""Figures about the workflow itself (rule graph, job DAG) for papers and docs."""
