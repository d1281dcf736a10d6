"""The `flow` section: stage-1 pairs/s of our pipeline against upstream's loop, stage-2 clips/s."""

from __future__ import annotations

from pathlib import Path

from benchmarks.common import K, project_config
from benchmarks.data import link_frames
from benchmarks.launcher import Launcher


def flow_section(
    launcher: Launcher, work: Path, video: Path, quick: bool, threads: int, torch_pairs: int
) -> dict:
    """Upstream's loop, ours on `threads` workers and ours on one thread, taking turns in
    rounds over consecutive stretches of the video (so load changes hit all three)."""
    import numpy as np
    import zarr

    from tsmsnet.preprocess.flow import make_flow

    rounds, per = (2, 8) if quick else (4, 24)
    totals: dict[str, list[float]] = {}

    def add(name: str, r: dict) -> None:
        t = totals.setdefault(name, [0.0, 0, 0.0, 0.0])
        t[0] += r["seconds"]
        t[1] += r["items"]
        t[2] = max(t[2], r["rss_mb"])
        t[3] += r["cpu_s"]

    def features(faces: str, out: str, method: str, n_threads: int, kind="skip", step=K):
        return launcher.run(
            "features",
            faces=faces,
            out=out,
            kind=kind,
            step=step,
            method=method,
            threads=n_threads,
        )

    ours, ours1 = f"ours tvl1, {threads} threads", "ours tvl1, 1 thread"
    identical = True
    for r in range(rounds):
        frames = link_frames(video, work / f"flow{r}", r * per, per + K)
        faces = str(work / f"flow{r}.faces.zarr")
        up_out = str(work / f"flow{r}.upstream.npy")
        add("faces", launcher.run("faces", frames=str(frames), out=faces, size=600))
        turns = ["upstream", ours, ours1]
        for who in turns[r % 3 :] + turns[: r % 3]:
            if who == "upstream":
                job = launcher.run(
                    "upstream", frames=str(frames), size=600, step=K, pairs=per, out=up_out
                )
            else:
                n = threads if who == ours else 1
                job = features(faces, str(work / f"flow{r}.{n}.zarr"), "tvl1", n)
            add(who, job)
        want = np.load(up_out)
        for n in (1, threads):
            got = zarr.open_array(str(work / f"flow{r}.{n}.zarr"), mode="r")[:]
            identical &= bool(np.array_equal(want, got))
    stage2 = features(
        str(work / "flow0.faces.zarr"), str(work / "flow0.s2.zarr"), "tvl1", threads, "stride", 4
    )
    rate = {name: t[1] / t[0] for name, t in totals.items()}
    # The faces job's cost per frame, on a long stretch (the rounds' short ones are mostly
    # fixed costs): each frame is decoded once for all the video's stores.
    long = link_frames(video, work / "faces1000", 0, 1000)
    faces_job = launcher.run("faces", frames=str(long), out=str(work / "faces1000.zarr"), size=600)
    faces_s = 1 / faces_job["rate"]
    result = {
        "pairs": rounds * per,
        "threads": threads,
        "pairs_per_s": rate,
        "ratio": {name: rate[name] / rate["upstream"] for name in (ours, ours1)},
        "faces_frames_per_s_1000": faces_job["rate"],
        # with the faces job's share: one decoded frame per stage-1 pair
        "ratio_with_faces": {
            name: (1 / rate["upstream"]) / (1 / rate[name] + faces_s) for name in (ours, ours1)
        },
        "identical_to_upstream": identical,
        "stage2_clips_per_s": stage2["rate"],
        "rss_mb": {name: t[2] for name, t in totals.items()},
        # CPU seconds of the whole job process per pair (imports included), and how many
        # cores the job kept busy on average (CPU / wall): below `threads` when others compete
        "cpu_s_per_item": {name: t[3] / t[1] for name, t in totals.items()},
        "cores_busy": {name: t[3] / t[0] for name, t in totals.items()},
    }
    try:
        make_flow("tvl1_torch", project_config()["preprocess"]["flow"]["tvl1"], 1)
    except Exception as exc:  # not there (yet), or no torch: say so
        result["tvl1_torch"] = f"not measured: {exc}"
        return result
    n = min(torch_pairs, per)
    frames = link_frames(video, work / "torch", 0, n + K)
    faces = str(work / "torch.faces.zarr")
    launcher.run("faces", frames=str(frames), out=faces, size=600)
    job = features(faces, str(work / "torch.zarr"), "tvl1_torch", threads)
    got = zarr.open_array(str(work / "torch.zarr"), mode="r")[:].astype("f4")
    want = np.load(work / "flow0.upstream.npy")[:n].astype("f4")
    result["tvl1_torch"] = {
        "pairs": n,
        "pairs_per_s": job["rate"],
        "ratio": job["rate"] / rate["upstream"],
        "rss_mb": job["rss_mb"],
        "max_abs_diff_vs_tvl1": float(np.abs(got - want).max()),
        "mean_abs_diff_vs_tvl1": float(np.abs(got - want).mean()),
    }
    return result
