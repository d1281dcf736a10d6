"""Per-video preprocessing: landmarks, aligned faces, optical flow and the 3x42x42 samples.

Submodules are imported where needed (dlib and OpenCV are slow to load):
`landmarks` (face box + 68 points), `align` (crop/resize), `geometry` (eye masks, ROIs,
nose patch), `flow` (TV-L1 / DIS), `features` (flow -> sample), `stores` (zarr I/O).
"""
