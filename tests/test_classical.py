"""Classical reference curve: mean flow magnitude per stage-1 sample, read in blocks."""

import numpy as np
import pytest
import zarr

from tsmsnet.spotting.classical import flow_magnitude_curve


def samples(n=5):
    data = np.zeros((n, 3, 42, 42), dtype=np.float16)
    data[0, 0], data[0, 1], data[0, 2] = 3.0, 4.0, 100.0  # strain is ignored
    data[2, 0, :21] = 2.0  # half the sample moves
    data[4, 1] = -1.0  # direction does not matter
    return data


def test_known_magnitudes():
    np.testing.assert_allclose(flow_magnitude_curve(samples()), [5.0, 0.0, 1.0, 0.0, 1.0])


class Recorder:
    """An array that records how many samples each read asks for."""

    def __init__(self, data):
        self.data, self.shape, self.reads = data, data.shape, []

    def __getitem__(self, key):
        part = self.data[key]
        self.reads.append(len(part))
        return part


def test_reads_in_bounded_blocks():
    source = Recorder(samples(7))
    curve = flow_magnitude_curve(source, block=3)
    assert source.reads == [3, 3, 1]
    np.testing.assert_allclose(curve, flow_magnitude_curve(samples(7)))


def test_zarr_store_gives_the_same_curve():
    data = samples(7)
    store = zarr.create_array(store={}, shape=data.shape, chunks=(2, 3, 42, 42), dtype="float16")
    store[:] = data
    np.testing.assert_allclose(flow_magnitude_curve(store, block=2), flow_magnitude_curve(data))


def test_empty_and_bad_shapes():
    assert flow_magnitude_curve(np.zeros((0, 3, 42, 42))).shape == (0,)
    with pytest.raises(ValueError, match="shape"):
        flow_magnitude_curve(np.zeros((4, 42, 42)))
