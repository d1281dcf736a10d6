"""Lazy datasets over zarr feature stores: only the blocks a batch needs are ever in memory.

Stores are read in whole time chunks ("blocks") held in a small byte-bounded LRU cache; the
block-shuffle batch sampler keeps reads local so that each block is decoded about once per
epoch instead of once per sample.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence

import numpy as np
import torch
import zarr
from torch.utils.data import Dataset, Sampler

from tsmsnet.errors import InputError
from tsmsnet.models.layers import minmax_channels
from tsmsnet.preprocess.stores import open_store


class StoreReader:
    """Time slices of many stores through an LRU of open arrays and of decoded blocks."""

    def __init__(self, stores: Sequence, max_open: int = 8, cache_mb: float = 256.0):
        self.sources = list(stores)
        self.max_open = max(1, max_open)
        self.cache_bytes = int(cache_mb * 2**20)
        self._open: OrderedDict[int, zarr.Array] = OrderedDict()
        self._blocks: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._cached = 0
        self.lengths, self.block_lens, self.sample_shape = [], [], None
        for k in range(len(self.sources)):
            arr = self.array(k)
            self.lengths.append(int(arr.shape[0]))
            self.block_lens.append(max(1, int(arr.chunks[0])))
            if self.sample_shape is None:
                self.sample_shape = tuple(arr.shape[1:])
            elif tuple(arr.shape[1:]) != self.sample_shape:
                raise InputError(
                    f"feature store {self.sources[k]} has samples of shape {arr.shape[1:]}, "
                    f"others have {self.sample_shape}; rebuild the stores with one config"
                )

    def array(self, k: int) -> zarr.Array:
        """Store k, opened on demand; at most `max_open` path-backed arrays stay open."""
        if k in self._open:
            self._open.move_to_end(k)
            return self._open[k]
        arr = open_store(self.sources[k])
        self._open[k] = arr
        while len(self._open) > self.max_open:
            self._open.popitem(last=False)
        return arr

    def block(self, k: int, b: int) -> np.ndarray:
        """Block b of store k in its stored dtype (cached)."""
        key = (k, b)
        if key in self._blocks:
            self._blocks.move_to_end(key)
            return self._blocks[key]
        bl = self.block_lens[k]
        data = np.asarray(self.array(k)[b * bl : min((b + 1) * bl, self.lengths[k])])
        self._blocks[key] = data
        self._cached += data.nbytes
        while self._cached > self.cache_bytes and len(self._blocks) > 1:
            _, old = self._blocks.popitem(last=False)
            self._cached -= old.nbytes
        return data

    def read(self, k: int, start: int, stop: int) -> np.ndarray:
        """Samples start..stop-1 of store k as float32."""
        self._check_slice(k, start, stop)
        out = np.empty((stop - start, *self.sample_shape), dtype=np.float32)
        self.read_into(out, k, start, stop)
        return out

    def _check_slice(self, k: int, start: int, stop: int) -> None:
        if not 0 <= start < stop <= self.lengths[k]:
            raise IndexError(f"slice {start}:{stop} outside store {self.sources[k]}")

    def read_into(self, out: np.ndarray, k: int, start: int, stop: int) -> None:
        """Samples start..stop-1 of store k copied into `out` (converted to its dtype)."""
        self._check_slice(k, start, stop)
        bl = self.block_lens[k]
        for b in range(start // bl, (stop - 1) // bl + 1):
            lo = max(start - b * bl, 0)
            hi = min(stop - b * bl, bl)
            at = b * bl + lo - start
            out[at : at + hi - lo] = self.block(k, b)[lo:hi]

    def gather(self, stores: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
        """One batch at once: (B, length, *sample) float32 from B (store, start) pairs."""
        out = np.empty((len(stores), length, *self.sample_shape), dtype=np.float32)
        for j, (k, s) in enumerate(zip(stores.tolist(), starts.tolist(), strict=True)):
            self.read_into(out[j], k, s, s + length)
        return out


def _check_lengths(what: str, sources: Sequence, got: Sequence[int], want: Sequence[int]) -> None:
    """Labels must match their store one to one; a mismatch means stale stores or labels."""
    for src, g, w in zip(sources, got, want, strict=True):
        if g != w:
            raise InputError(f"{what} for store {src}: {g} labels for {w} entries")


class _BlockedDataset(Dataset):
    """Flat index over (store, position) pairs, grouped in blocks of one store chunk."""

    def __init__(self, reader: StoreReader, store_of: np.ndarray, pos_of: np.ndarray):
        self.reader = reader
        self.store_of = store_of
        self.pos_of = pos_of

    def __len__(self) -> int:
        return len(self.store_of)

    def blocks(self, indices: np.ndarray | None = None) -> list[np.ndarray]:
        """Dataset indices grouped by (store, chunk of their first sample), in store order."""
        idx = np.arange(len(self)) if indices is None else np.sort(np.asarray(indices))
        if len(idx) == 0:
            return []
        bl = np.asarray(self.reader.block_lens)[self.store_of[idx]]
        key = self.store_of[idx].astype(np.int64) * (2**40) + self.pos_of[idx] // bl
        order = np.argsort(key, kind="stable")
        idx, key = idx[order], key[order]
        cuts = np.flatnonzero(np.diff(key)) + 1
        return np.split(idx, cuts)


class ApexSamples(_BlockedDataset):
    """Stage-1 samples: item i -> (x float32 (3, H, W), y float32)."""

    def __init__(self, stores: Sequence, labels: Sequence[np.ndarray], cache_mb: float = 256.0):
        reader = StoreReader(stores, cache_mb=cache_mb)
        self.labels = [np.asarray(y, dtype=np.float32) for y in labels]
        _check_lengths("apex labels", reader.sources, [len(y) for y in self.labels], reader.lengths)
        store_of = np.repeat(np.arange(len(reader.lengths)), reader.lengths)
        pos_of = np.concatenate([np.arange(n) for n in reader.lengths] or [np.zeros(0, int)])
        self._flat = np.concatenate(self.labels or [np.zeros(0, np.float32)])
        super().__init__(reader, store_of, pos_of.astype(np.int64))

    def __getitem__(self, i: int):
        k, t = int(self.store_of[i]), int(self.pos_of[i])
        x = self.reader.read(k, t, t + 1)[0]
        return torch.from_numpy(x), torch.tensor(self._flat[i])

    def __getitems__(self, indices: Sequence[int]):
        """A whole batch in one pass, (B, 3, H, W) and (B,): the DataLoader calls this
        instead of one __getitem__ per sample plus a collate (same values, less overhead)."""
        idx = np.asarray(indices, dtype=np.int64)
        x = self.reader.gather(self.store_of[idx], self.pos_of[idx], 1)[:, 0]
        return torch.from_numpy(x), torch.from_numpy(self._flat[idx])


class WindowSamples(_BlockedDataset):
    """Stage-2 windows: item i -> (x float32 (L, 3, H, W) min-max normalised per clip, y int64)."""

    def __init__(
        self,
        stores: Sequence,
        starts_per_store: Sequence[np.ndarray],
        labels: Sequence[np.ndarray],
        L: int,
        cache_mb: float = 256.0,
    ):
        reader = StoreReader(stores, cache_mb=cache_mb)
        self.L = int(L)
        starts = [np.asarray(s, dtype=np.int64) for s in starts_per_store]
        self.labels = [np.asarray(y, dtype=np.int64) for y in labels]
        _check_lengths(
            "window labels", reader.sources, [len(y) for y in self.labels], [len(s) for s in starts]
        )
        for src, s, n in zip(reader.sources, starts, reader.lengths, strict=True):
            if len(s) and (s.min() < 0 or s.max() + self.L > n):
                raise InputError(f"windows of {self.L} clips run past the end of store {src}")
        store_of = np.repeat(np.arange(len(starts)), [len(s) for s in starts])
        pos_of = np.concatenate(starts or [np.zeros(0, np.int64)])
        self._flat = np.concatenate(self.labels or [np.zeros(0, np.int64)])
        super().__init__(reader, store_of, pos_of)

    def flat_labels(self) -> np.ndarray:
        """Labels of all windows in dataset order (for balancing)."""
        return self._flat.copy()

    def __getitem__(self, i: int):
        k, s = int(self.store_of[i]), int(self.pos_of[i])
        x = minmax_channels(self.reader.read(k, s, s + self.L))
        return torch.from_numpy(x), torch.tensor(self._flat[i])

    def windows(self, indices: np.ndarray) -> torch.Tensor:
        """Windows `indices` read and normalised: (n, L, 3, H, W) float32."""
        idx = np.asarray(indices, dtype=np.int64)
        x = minmax_channels(self.reader.gather(self.store_of[idx], self.pos_of[idx], self.L))
        return torch.from_numpy(x)

    def __getitems__(self, indices: Sequence[int]):
        """A whole batch in one pass, (B, L, 3, H, W) and (B,) (see ApexSamples)."""
        idx = np.asarray(indices, dtype=np.int64)
        return self.windows(idx), torch.from_numpy(self._flat[idx])

    def lazy(self) -> Dataset:
        """This dataset with batches read a forward pass at a time (see WindowBatch)."""
        return _LazyWindows(self)


class WindowBatch:
    """One batch of windows, read only as it is sliced: `batch[lo:hi]` is the tensor
    WindowSamples.__getitems__ would give for those windows, bit for bit.

    Neighbouring windows share all but one clip, so a materialised batch holds each clip up
    to L times: at L=114 a batch of 128 windows is 294 MB as float32, plus the normalisation's
    temporaries. Sliced per forward pass (interval_net.clips_per_pass), memory follows the
    pass, whatever L and the batch size.
    """

    def __init__(self, samples: WindowSamples, indices: np.ndarray):
        self.samples = samples
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, key: slice) -> torch.Tensor:
        if not isinstance(key, slice):
            raise TypeError("a WindowBatch is read in slices, e.g. batch[lo:hi]")
        return self.samples.windows(self.indices[key])


class _LazyWindows(Dataset):
    """WindowSamples whose batches are WindowBatch views (for the training loop)."""

    def __init__(self, samples: WindowSamples):
        self.samples = samples

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int):
        return self.samples[i]

    def __getitems__(self, indices: Sequence[int]):
        idx = np.asarray(indices, dtype=np.int64)
        return WindowBatch(self.samples, idx), torch.from_numpy(self.samples._flat[idx])


class BlockShuffleBatchSampler(Sampler[list[int]]):
    """Seeded shuffle that keeps reads local: blocks are shuffled, then gathered into groups
    of at least `group_size` samples whose members are shuffled together into batches.

    Every index appears exactly once per pass. `group_size=None` puts all blocks in one group,
    which is a plain full shuffle (correct, but each sample may cost a block decode).
    """

    def __init__(
        self,
        blocks: list[np.ndarray],
        batch_size: int,
        generator: torch.Generator,
        group_size: int | None = None,
    ):
        self.blocks = [np.asarray(b, dtype=np.int64) for b in blocks if len(b)]
        self.batch_size = int(batch_size)
        self.generator = generator
        self.group_size = group_size
        self.total = int(sum(len(b) for b in self.blocks))

    def __len__(self) -> int:
        return -(-self.total // self.batch_size)

    def _order(self) -> np.ndarray:
        perm = torch.randperm(len(self.blocks), generator=self.generator).numpy()
        limit = self.group_size or self.total
        out, group, size = [], [], 0
        for b in perm:
            group.append(self.blocks[b])
            size += len(self.blocks[b])
            if size >= limit:
                out.append(self._shuffle(group))
                group, size = [], 0
        if group:
            out.append(self._shuffle(group))
        return np.concatenate(out) if out else np.zeros(0, np.int64)

    def _shuffle(self, group: list[np.ndarray]) -> np.ndarray:
        members = np.concatenate(group)
        return members[torch.randperm(len(members), generator=self.generator).numpy()]

    def __iter__(self) -> Iterator[list[int]]:
        order = self._order()
        for i in range(0, len(order), self.batch_size):
            yield order[i : i + self.batch_size].tolist()
