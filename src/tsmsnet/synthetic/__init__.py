"""Synthetic long videos in a real dataset's layout (CAS(ME)^2, CAS(ME)^3 or SAMM-LV), with
ground truth.

plan: names and folders (no I/O); face: per-subject neutral face and its landmarks;
motion: deformation fields and distractors, rendered frame by frame; generate: writes it all.
"""
