"""Full-scale CAS(ME)^2 and SAMM-LV layouts of placeholder frames, with real workbooks.

The workflow builds its DAG from folder listings only (names, sizes, mtimes), so zero-byte
files named like frames (or, with `frames=0`, empty folders) and a workbook in the distributed
layout are all a dry run needs: 22 subjects / 98 videos (CAS(ME)^2) and 30 subjects / 147
videos (SAMM-LV), named as the datasets name them. `benchmarks/run.py` times dry runs on them;
`tests/test_scale.py` counts their jobs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from tsmsnet.datasets.workbooks import write_casme2_workbook, write_samm_workbook
from tsmsnet.synthetic.plan import CASME2_VIDEOS

# The 22 CAS(ME)^2 subject folders as distributed (s15 ... s40, with gaps).
CASME2_SUBJECTS = (
    "s15 s16 s19 s20 s21 s22 s23 s24 s25 s26 s27 s29 s30 s31 s32 s33 s34 s35 s36 s37 s38 s40"
).split()
CASME2_N_VIDEOS = 98
# The 30 SAMM-LV subjects as distributed (006 ... 037, with gaps).
SAMM_SUBJECTS = tuple(f"{n:03d}" for n in [*range(6, 27), 28, *range(30, 38)])
SAMM_N_VIDEOS = 147
CASME2_WORKBOOK = "CAS(ME)^2code_final.xlsx"
SAMM_WORKBOOK = "SAMM_LongVideos_V3_Release.xlsx"
# Frames per video in the real datasets, roughly (CAS(ME)^2 at 30 fps, SAMM-LV at 200 fps).
REAL_FRAMES = {"casme2": 2600, "samm_lv": 7000}


def spread(n_videos: int, n_subjects: int) -> list[int]:
    """Videos per subject: n_videos spread as evenly as possible, the first ones get more."""
    base, extra = divmod(n_videos, n_subjects)
    return [base + (i < extra) for i in range(n_subjects)]


def placeholder_frames(folder: Path, names: Sequence[str]) -> None:
    """`folder` with a zero-byte file per name (existing files are left as they are)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = folder / name
        if not path.exists():
            path.touch()


def _intervals(frames: int, count: int, micro: int, macro: int) -> list[tuple[int, int, str]]:
    """`count` (onset, offset, type) inside frames 1..frames (or a long video when 0)."""
    span = (frames or 2000 * count) // count
    out = []
    for e in range(count):
        kind = "micro" if e % 2 else "macro"
        length = min(micro if kind == "micro" else macro, max(span - 2, 0))
        onset = 1 + e * span
        out.append((onset, onset + length, kind))
    return out


def casme2_layout(
    root: str | Path,
    extra_subjects: Sequence[int] = (),
    frames: int = 0,
    expressions_per_video: int = 3,
) -> pd.DataFrame:
    """`root/rawpic/sNN/NN_CODEdescription/img1.jpg ...` + `CAS(ME)^2code_final.xlsx`.

    The 22 real subjects with 98 videos, plus one subject (s41, s42, ...) per entry of
    `extra_subjects` with that many videos: building again with one more models a user adding
    a subject (existing files are left as they are; the workbook is rewritten). `frames`
    zero-byte frames per video (0: empty folders). Returns DataFrame[subject, video, folder].
    """
    root = Path(root)
    names = list(CASME2_SUBJECTS) + [f"s{41 + i}" for i in range(len(extra_subjects))]
    per = spread(CASME2_N_VIDEOS, len(CASME2_SUBJECTS)) + list(extra_subjects)
    if max(per) > len(CASME2_VIDEOS):
        raise ValueError(f"a CAS(ME)^2 subject has at most {len(CASME2_VIDEOS)} videos")
    frame_names = [f"img{n}.jpg" for n in range(1, frames + 1)]
    rows, book = [], []
    for subject, count in zip(names, per, strict=True):
        for code, name, description in CASME2_VIDEOS[:count]:
            folder = root / "rawpic" / subject / f"{subject[1:]}_{code}{description}"
            placeholder_frames(folder, frame_names)
            rows.append({"subject": subject, "video": f"{subject}_{code}", "folder": str(folder)})
            spans = _intervals(frames, expressions_per_video, micro=12, macro=40)
            for e, (onset, offset, kind) in enumerate(spans, start=1):
                book.append(
                    {
                        "subject": subject,
                        "video_name": name,
                        "expression_number": e,
                        "onset": onset,
                        "apex": (onset + offset) // 2,
                        "offset": offset,
                        "type": kind,
                    }
                )
    write_casme2_workbook(root / CASME2_WORKBOOK, pd.DataFrame(book), names)
    return pd.DataFrame(rows)


def samm_layout(
    root: str | Path,
    extra_subjects: Sequence[int] = (),
    frames: int = 0,
    expressions_per_video: int = 3,
) -> pd.DataFrame:
    """`root/006_1/006_1_0001.jpg ...` + `SAMM_LongVideos_V3_Release.xlsx` (header on row 3).

    The 30 real subjects with 147 videos, plus subjects 038, 039, ... with `extra_subjects`
    videos each; `frames` as in casme2_layout. Returns DataFrame[subject, video, folder].
    """
    root = Path(root)
    names = list(SAMM_SUBJECTS) + [f"{38 + i:03d}" for i in range(len(extra_subjects))]
    per = spread(SAMM_N_VIDEOS, len(SAMM_SUBJECTS)) + list(extra_subjects)
    rows, book = [], []
    for subject, count in zip(names, per, strict=True):
        for j in range(1, count + 1):
            video = f"{subject}_{j}"
            folder = root / video
            placeholder_frames(folder, [f"{video}_{n:04d}.jpg" for n in range(1, frames + 1)])
            rows.append({"subject": subject, "video": video, "folder": str(folder)})
            spans = _intervals(frames, expressions_per_video, micro=60, macro=400)
            for onset, offset, kind in spans:
                book.append(
                    {
                        "video": video,
                        "onset": onset,
                        "apex": (onset + offset) // 2,
                        "offset": offset,
                        "type": kind,
                    }
                )
    root.mkdir(parents=True, exist_ok=True)
    write_samm_workbook(root / SAMM_WORKBOOK, pd.DataFrame(book))
    return pd.DataFrame(rows)


LAYOUTS = {"casme2": casme2_layout, "samm_lv": samm_layout}


def full_scale_layout(
    dataset: str, root: str | Path, extra_subjects: Sequence[int] = (), frames: int = 0
) -> pd.DataFrame:
    """The full-scale placeholder layout of `dataset` (casme2 or samm_lv) under `root`."""
    if dataset not in LAYOUTS:
        raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(LAYOUTS)}")
    return LAYOUTS[dataset](root, extra_subjects, frames)
