"""Dual TV-L1 optical flow in PyTorch, batched over pairs, on the CPU or a CUDA GPU.

The same model, defaults and steps as OpenCV's ``cv2.optflow.DualTVL1OpticalFlow`` (Zach, Pock
and Bischof 2007; Sanchez, Meinhardt-Llopis and Facciolo, IPOL 2013), so that a store written
with ``tvl1_torch`` can stand in for one written with ``tvl1``:

- input: uint8 grey levels as they are; floating input is taken to be in [0, 1] and multiplied
  by 255 (as OpenCV does);
- pyramid: each level is the previous one resized by ``scale_step`` with bilinear interpolation
  (OpenCV's INTER_LINEAR, no anti-aliasing; sizes rounded to nearest), up to ``nscales`` levels,
  stopping before a level narrower or lower than 16 px; the flow starts at zero on the
  coarsest level and is resized bilinearly to the next finer level and divided by
  ``scale_step``;
- per level: the gradient of I1 by centred differences (half one-sided differences on the
  border), then ``warps`` warps; each warp resamples I1 and its gradient at x + u with bicubic
  interpolation (A = -0.75, zero outside the image), and runs up to ``outer_iterations`` x
  ``inner_iterations`` primal-dual iterations: a 5x5 median filter of (u1, u2) at the start
  of every outer iteration (``median_filtering`` > 1, replicated border), then per inner
  iteration the thresholding step (v), the backward-difference divergence of the dual p,
  u = v + theta div p, the forward gradient of u and the dual step
  p = (p + tau/theta grad u) / (1 + tau/theta |grad u|);
- stopping: a pair stops iterating within a warp once the sum over pixels of its squared
  change of u drops to epsilon^2 x (pixels at that level), exactly OpenCV's per-image test.

Per-pair convergence in a batch: a pair that meets the epsilon test is written back and taken
out of the working batch (its u and p stay frozen for the rest of that warp, as OpenCV stops
iterating it), so the batch shrinks as pairs converge; pairs are not iterated to the maximum.
The stopping sum is taken in double per pair, so a batched result is the one-at-a-time result
bit for bit (on one device).

Equality with OpenCV: step for step the two agree to ~1e-5 px (float rounding of the bicubic
warp, done here by grid_sample, of bilinear resizing and of sqrt versus hypot). The epsilon test
is a hard threshold, though: such rounding can move one warp's stop by an iteration, which
leaves median differences of a few thousandths of a px on 128x128 faces (up to a few tenths
at single pixels, mostly on the image border). With a tiny epsilon (every pair runs all
iterations) the median difference is ~3e-5 px. ``gamma`` != 0 (the illumination term u3)
follows OpenCV too.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from tsmsnet.errors import ConfigError
from tsmsnet.preprocess.flow import TVL1_PARAMS, as_stacks, check_tvl1_params

# OpenCV's thresholding step skips pixels whose |grad I1|^2 is at most FLT_EPSILON.
_FLT_EPS = float(np.finfo(np.float32).eps)
# OpenCV stops building the pyramid before a level smaller than this (either side).
_MIN_LEVEL = 16


def _check_params(params: dict) -> dict:
    check_tvl1_params(params)
    p = {k: params[k] for k in TVL1_PARAMS}
    median = int(p["median_filtering"])
    if median > 1 and median % 2 == 0:
        raise ConfigError(f"preprocess.flow.tvl1.median_filtering must be odd, got {median}")
    if not 0 < float(p["scale_step"]) < 1:
        raise ConfigError(
            f"preprocess.flow.tvl1.scale_step must be in (0, 1), got {p['scale_step']}"
        )
    for key in ("nscales", "warps", "inner_iterations", "outer_iterations"):
        if int(p[key]) < 1:
            raise ConfigError(f"preprocess.flow.tvl1.{key} must be at least 1, got {p[key]}")
    return p


# --------------------------------------------------------------------------- resampling


def _linear_taps(n_in: int, n_out: int, scale: float, device) -> tuple:
    """OpenCV INTER_LINEAR taps along one axis: (i0, i1, w0, w1) for each output index.

    `scale` is source pixels per output pixel; OpenCV computes the position in double, rounds it
    to float, and clamps to the border (weight 1 on the edge pixel).
    """
    pos = ((np.arange(n_out, dtype=np.float64) + 0.5) * scale - 0.5).astype(np.float32)
    i0 = np.floor(pos).astype(np.int64)
    frac = (pos - i0.astype(np.float32)).astype(np.float32)
    low = i0 < 0
    i0[low], frac[low] = 0, 0
    high = i0 >= n_in - 1
    i0[high], frac[high] = n_in - 1, 0
    i1 = np.minimum(i0 + 1, n_in - 1)
    w1 = frac
    w0 = (np.float32(1) - frac).astype(np.float32)
    ints = [torch.as_tensor(a, dtype=torch.long, device=device) for a in (i0, i1)]
    floats = [torch.as_tensor(a, dtype=torch.float32, device=device) for a in (w0, w1)]
    return (*ints, *floats)


def resize_linear(
    x: torch.Tensor, size: tuple[int, int], inv_scale: tuple[float, float] | None = None
):
    """(..., h, w) -> (..., H, W) like cv2.resize(INTER_LINEAR): rows first, then columns.

    `inv_scale` (fy, fx) is what OpenCV was given when it computed the size itself
    (``resize(src, dst, Size(), f, f)``); None means the size was given (ratio of sizes).
    """
    h, w = x.shape[-2:]
    out_h, out_w = size
    fy, fx = inv_scale if inv_scale is not None else (out_h / h, out_w / w)
    x0, x1, wx0, wx1 = _linear_taps(w, out_w, 1.0 / fx, x.device)
    y0, y1, wy0, wy1 = _linear_taps(h, out_h, 1.0 / fy, x.device)
    horiz = x.index_select(-1, x0) * wx0 + x.index_select(-1, x1) * wx1
    return horiz.index_select(-2, y0) * wy0[:, None] + horiz.index_select(-2, y1) * wy1[:, None]


def remap_cubic(img: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """(N, K, H, W) images sampled at (x + u, y + v) for (N, 2, H, W) flow: cv2.remap INTER_CUBIC.

    Keys' cubic with A = -0.75 at exact sub-pixel positions (OpenCV 5 no longer rounds them to
    1/32 px), taps outside the image reading 0 (remap's default BORDER_CONSTANT): exactly
    grid_sample's bicubic with zero padding; the normalised grid costs ~1e-5 px of rounding.
    """
    n, k, h, w = img.shape
    dev = img.device
    xs = torch.arange(w, device=dev, dtype=torch.float32)
    ys = torch.arange(h, device=dev, dtype=torch.float32)[:, None]
    gx = (xs + flow[:, 0]).mul_(2.0 / max(w - 1, 1)).sub_(1.0)
    gy = (ys + flow[:, 1]).mul_(2.0 / max(h - 1, 1)).sub_(1.0)
    grid = torch.stack([gx, gy], dim=-1)
    return F.grid_sample(img, grid, mode="bicubic", padding_mode="zeros", align_corners=True)


def median_blur(x: torch.Tensor, ksize: int) -> torch.Tensor:
    """(..., H, W) median over ksize x ksize windows, replicated border (cv2.medianBlur).

    On the CPU this is cv2.medianBlur itself, image by image (OpenCV's sorting network is far
    faster than a torch median over unfolded windows); elsewhere a torch median.
    """
    shape = x.shape
    h, w = shape[-2:]
    if x.device.type == "cpu" and ksize in (3, 5):
        flat = x.detach().reshape(-1, h, w).contiguous().numpy()
        out = np.empty_like(flat)
        for i in range(flat.shape[0]):
            cv2.medianBlur(flat[i], ksize, dst=out[i])
        return torch.from_numpy(out).reshape(shape)
    return median_blur_torch(x, ksize)


def median_blur_torch(x: torch.Tensor, ksize: int) -> torch.Tensor:
    """median_blur in torch (any device): median of the unfolded windows, replicated border."""
    shape = x.shape
    h, w = shape[-2:]
    r = ksize // 2
    flat = x.reshape(-1, 1, h, w)
    padded = F.pad(flat, (r, r, r, r), mode="replicate")
    windows = F.unfold(padded, ksize)  # (M, k*k, H*W)
    return windows.median(dim=1).values.reshape(shape)


# --------------------------------------------------------------------------- finite differences


def centered_gradient(img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Centred differences of (N, H, W); half one-sided differences on the border (OpenCV)."""
    p = F.pad(img.unsqueeze(1), (1, 1, 1, 1), mode="replicate").squeeze(1)
    dx = 0.5 * (p[:, 1:-1, 2:] - p[:, 1:-1, :-2])
    dy = 0.5 * (p[:, 2:, 1:-1] - p[:, :-2, 1:-1])
    return dx, dy


# --------------------------------------------------------------------------- the solver


def _to_levels(frames: np.ndarray, device) -> torch.Tensor:
    """Frames -> float32 grey levels on `device`: uint8 as is, floating in [0, 1] times 255."""
    arr = np.asarray(frames)
    if arr.dtype == np.uint8:
        levels = arr.astype(np.float32)
    elif np.issubdtype(arr.dtype, np.floating):
        levels = arr.astype(np.float32) * np.float32(255)  # OpenCV's convention
    else:
        raise ValueError(f"frames must be uint8 or floating point, got {arr.dtype}")
    return torch.from_numpy(levels).to(device)


class TorchTVL1:
    """Batched Dual TV-L1 flow with OpenCV's model and defaults.

    `params`: exactly config.yaml's ``preprocess.flow.tvl1`` keys. `device`: 'auto' (CUDA when
    torch sees a GPU), 'cpu', 'cuda' or a torch.device. `max_batch`: pairs solved together
    (default 256 on CUDA, 16 on the CPU, where smaller batches stay in cache; memory is about
    40 floats per pixel per pair).
    """

    def __init__(self, params: dict, device="auto", max_batch: int | None = None):
        from tsmsnet.training.device import pick_device

        p = _check_params(params)
        self.params = dict(p)
        self.tau = float(p["tau"])
        self.lam = float(p["lambda"])
        self.theta = float(p["theta"])
        self.nscales = int(p["nscales"])
        self.warps = int(p["warps"])
        self.epsilon = float(p["epsilon"])
        self.inner = int(p["inner_iterations"])
        self.outer = int(p["outer_iterations"])
        self.scale_step = float(p["scale_step"])
        self.gamma = float(p["gamma"])
        self.median = int(p["median_filtering"])
        self.device = pick_device(device)
        if max_batch is None:
            max_batch = 256 if self.device.type == "cuda" else 16
        self.max_batch = max(1, int(max_batch))
        # OpenCV computes these in double and rounds them to float.
        self._lt = float(np.float32(self.lam * self.theta))
        self._taut = float(np.float32(self.tau / self.theta))
        self._theta32 = float(np.float32(self.theta))

    # ---- public API

    def calc(self, prev: np.ndarray, nxt: np.ndarray, flow=None) -> np.ndarray:
        """(H, W) grey pair -> (H, W, 2) float32 flow from prev to next (OpenCV's calc order).

        `flow` mirrors OpenCV's signature; an initial flow is not supported (must be None).
        """
        if flow is not None:
            raise ValueError("TorchTVL1 does not take an initial flow")
        prev, nxt = np.asarray(prev), np.asarray(nxt)
        if prev.ndim != 2:
            raise ValueError(f"calc takes (H, W) frames, got {prev.shape}")
        return self.calc_many(prev[None], nxt[None])[0]

    def calc_many(self, prevs, nexts) -> np.ndarray:
        """(B, H, W) prev and next frames -> (B, H, W, 2) float32 flows, pair by pair."""
        prevs, nexts = as_stacks(prevs, nexts)
        b, h, w = prevs.shape
        if h < 3 or w < 3:
            raise ValueError(f"frames of {h}x{w} are too small for TV-L1")
        out = np.empty((b, h, w, 2), dtype=np.float32)
        with torch.inference_mode():
            for s in range(0, b, self.max_batch):
                e = min(b, s + self.max_batch)
                i0 = _to_levels(prevs[s:e], self.device)
                i1 = _to_levels(nexts[s:e], self.device)
                flow = self.flow_tensor(i0, i1)
                out[s:e] = flow.permute(0, 2, 3, 1).cpu().numpy()
        return out

    def flow_tensor(self, i0: torch.Tensor, i1: torch.Tensor) -> torch.Tensor:
        """(N, H, W) float32 grey levels (0..255) on self.device -> (N, 2, H, W) flow tensor."""
        levels0, levels1 = [i0], [i1]
        for _ in range(1, self.nscales):
            h, w = levels0[-1].shape[-2:]
            size = (int(round(h * self.scale_step)), int(round(w * self.scale_step)))
            if size[0] < _MIN_LEVEL or size[1] < _MIN_LEVEL:
                break
            inv = (self.scale_step, self.scale_step)
            levels0.append(resize_linear(levels0[-1], size, inv))
            levels1.append(resize_linear(levels1[-1], size, inv))
        n = i0.shape[0]
        channels = 3 if self.gamma != 0 else 2
        h, w = levels0[-1].shape[-2:]
        u = torch.zeros(n, channels, h, w, device=i0.device, dtype=torch.float32)
        for s in range(len(levels0) - 1, -1, -1):
            u = self._one_scale(levels0[s], levels1[s], u)
            if s == 0:
                break
            size = tuple(levels0[s - 1].shape[-2:])
            u = resize_linear(u, size)
            u[:, :2] *= float(np.float32(1.0 / self.scale_step))
        return u[:, :2].contiguous()

    # ---- one pyramid level

    def _one_scale(self, i0: torch.Tensor, i1: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        n, c, h, w = u.shape
        u = u.contiguous()
        p1 = torch.zeros_like(u)  # dual variable, x part, one per flow component
        p2 = torch.zeros_like(u)  # y part
        i1x, i1y = centered_gradient(i1)
        sources = torch.stack([i1, i1x, i1y], dim=1)
        threshold = float(np.float32(self.epsilon * self.epsilon * h * w))
        for _ in range(self.warps):
            warped = remap_cubic(sources, u[:, :2])
            i1w, i1wx, i1wy = warped.unbind(1)
            grad = i1wx * i1wx + i1wy * i1wy
            rho_c = i1w - i1wx * u[:, 0] - i1wy * u[:, 1] - i0
            g = warped[:, 1:3]
            if c == 3:
                g = torch.cat([g, torch.full_like(g[:, :1], self.gamma)], dim=1)
            neg_grad = -grad.clamp_min(_FLT_EPS)
            self._iterate(u, p1, p2, g.contiguous(), neg_grad, rho_c, threshold)
        return u

    def _iterate(self, u_all, p1_all, p2_all, g, neg_grad, rho_c, threshold: float) -> None:
        """Primal-dual iterations of one warp; updates u and p (p1, p2) in place, per pair.

        Pairs that meet the epsilon test are written back and dropped from the working set.
        """
        work = _WorkingSet(u_all, p1_all, p2_all, g, neg_grad, rho_c)
        lt, theta, taut = self._lt, self._theta32, self._taut
        for _ in range(self.outer):
            if self.median > 1:
                work.u[:, :2] = median_blur(work.u[:, :2], self.median)
            for _ in range(self.inner):
                err = work.step(lt, theta, taut)
                done = ~(err > threshold)
                if bool(done.any()):
                    work.retire(done)
                    if work.empty:
                        return
        work.retire(None)

    def __repr__(self) -> str:
        return f"TorchTVL1({self.params}, device={self.device})"


class _WorkingSet:
    """The pairs of one warp that are still iterating, with preallocated scratch buffers.

    u (N, C, H, W); the dual p as p1 (x part) and p2 (y part), each (N, C, H, W); g the warped
    gradient per flow component (gamma for u3); rho_c; and -max(|grad I1w|^2, FLT_EPSILON).
    """

    _STATE = ("u", "p1", "p2", "g", "neg_grad", "rho_c")

    def __init__(self, u_all, p1_all, p2_all, g, neg_grad, rho_c):
        self.full = (u_all, p1_all, p2_all)
        self.rows = None  # batch indices of the working pairs; None while all of them
        self.u, self.p1, self.p2 = u_all.clone(), p1_all.clone(), p2_all.clone()
        self.g, self.neg_grad, self.rho_c = g, neg_grad, rho_c
        n, c, h, w = u_all.shape
        self._div, self._gx, self._gy, self._norm = (torch.empty_like(u_all) for _ in range(4))
        self._gx[..., -1] = 0  # forward differences vanish on the last column / row
        self._gy[..., -1, :] = 0
        self._rho = torch.empty_like(rho_c)
        self.empty = False

    def step(self, lt: float, theta: float, taut: float) -> torch.Tensor:
        """One inner iteration (OpenCV order); returns each pair's sum of squared changes of u."""
        u, p1, p2, g = self.u, self.p1, self.p2, self.g
        n, c = u.shape[:2]
        div, gx, gy, norm, rho = (
            self._div[:n],
            self._gx[:n],
            self._gy[:n],
            self._norm[:n],
            self._rho[:n],
        )
        # thresholding step: v = u + clamp(-rho / |grad|^2, -lt, lt) grad
        torch.mul(g[:, 0], u[:, 0], out=rho)
        for k in range(1, c):
            rho.addcmul_(g[:, k], u[:, k])
        rho.add_(self.rho_c).div_(self.neg_grad).clamp_(-lt, lt)
        v = torch.addcmul(u, rho.unsqueeze(1), g)
        # divergence of p (backward differences, zero beyond the first row / column)
        div[..., 0] = p1[..., 0]
        torch.sub(p1[..., 1:], p1[..., :-1], out=div[..., 1:])
        div.add_(p2)
        div[..., 1:, :].sub_(p2[..., :-1, :])
        u_new = v.add_(div, alpha=theta)
        # summed in double: a pair's stop then cannot depend on how its batch is split up
        err = torch.sub(u_new, u, out=div).square_().sum(dim=(1, 2, 3), dtype=torch.float64)
        self.u = u = u_new
        # dual step on the forward gradient of u
        torch.sub(u[..., 1:], u[..., :-1], out=gx[..., :-1])
        torch.sub(u[..., 1:, :], u[..., :-1, :], out=gy[..., :-1, :])
        # |grad u| as sqrt(gx^2 + gy^2): OpenCV's hypot to within a float ulp, several times faster
        torch.mul(gx, gx, out=norm).addcmul_(gy, gy).sqrt_().mul_(taut).add_(1.0)
        p1.add_(gx, alpha=taut).div_(norm)
        p2.add_(gy, alpha=taut).div_(norm)
        return err

    def retire(self, done: torch.Tensor | None) -> None:
        """Write back the pairs marked `done` (all when None) and drop them from the set."""
        if done is None:
            sel, rows = None, self.rows
        else:
            sel = done.nonzero().squeeze(1)
            rows = sel if self.rows is None else self.rows[sel]
        for full, part in zip(self.full, (self.u, self.p1, self.p2), strict=True):
            if sel is not None:
                part = part.index_select(0, sel)
            if rows is None:
                full.copy_(part)
            else:
                full.index_copy_(0, rows, part)
        keep = None if done is None else (~done).nonzero().squeeze(1)
        if keep is None or keep.numel() == 0:
            self.empty = True
            return
        self.rows = keep if self.rows is None else self.rows[keep]
        for name in self._STATE:
            setattr(self, name, getattr(self, name).index_select(0, keep))
