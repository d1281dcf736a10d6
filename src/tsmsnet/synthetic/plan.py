"""Names and folders of the synthetic videos, exactly as the real datasets spell them (no I/O).

Subject i and video j always get the same names whatever the preset's counts, so a bigger
preset only adds videos and never renames the ones a smaller preset wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath

import pandas as pd

from tsmsnet.errors import ConfigError

CASME2 = "casme2"
CASME3 = "casme3"
SAMM = "samm_lv"
LAYOUT_ALIASES = {"casme2": CASME2, "casme3": CASME3, "samm_lv": SAMM, "samm": SAMM}

# CAS(ME)^2: subject folders start at s15; the frames live under rawpic/.
CASME2_FIRST_SUBJECT = 15
CASME2_FRAMES_DIR = "rawpic"
# The real video codes in order, with the workbook's video names; descriptions are ours.
CASME2_VIDEOS = (
    ("0101", "disgust1", "disgustingteeth"),
    ("0102", "disgust2", "eatingworms"),
    ("0401", "anger1", "girlcrashing"),
    ("0402", "anger2", "beatingwoman"),
    ("0502", "happy1", "funnyerasing"),
    ("0503", "happy2", "funnyfarting"),
    ("0505", "happy3", "funnyinnovations"),
    ("0507", "happy4", "climbingthewall"),
    ("0508", "happy5", "funnydunkey"),
)
# SAMM-LV: subjects are numbered from 006, videos from 1, frames zero-padded to 4 digits.
SAMM_FIRST_SUBJECT = 6
# CAS(ME)^3 Part A: subject folders spNO.1, spNO.2, ... under a release prefix (the reader
# looks for it), videos a..m, each in <letter>/color/ with frames <n>.jpg numbered from a small
# integer, some numbers dropped (at these fractions of the video), as the release is.
CASME3_PREFIX = "part_A"
CASME3_VIDEOS = "abcdefghijklm"
CASME3_FIRST_FRAME = 3
CASME3_DROPS = (0.37, 0.71)


@dataclass(frozen=True)
class SubjectPlan:
    """One subject: its id as the reader reports it and its folder (relative to data_root)."""

    index: int
    subject: str
    folder: PurePath | None


@dataclass(frozen=True)
class VideoPlan:
    """One video: ids, the workbook's video name, frames folder (relative) and file names."""

    subject: str
    video: str
    video_name: str
    folder: PurePath
    frame_pattern: str
    first_frame: int = 1  # frame number of rendered frame 0, as the annotation counts
    drops: tuple[float, ...] = ()  # rendered frames not written, as fractions of the video

    def frame_file(self, number: int) -> str:
        """File name of frame `number` (first_frame-based, as the annotation counts)."""
        return self.frame_pattern.format(n=number)

    def dropped(self, n_frames: int) -> set[int]:
        """Indices (0-based) of the rendered frames left unwritten; never the first or last."""
        return {min(max(1, int(f * n_frames)), n_frames - 2) for f in self.drops}


def layout_name(layout: str) -> str:
    """Canonical layout name (casme2 or samm_lv); ConfigError for anything else."""
    try:
        return LAYOUT_ALIASES[layout]
    except KeyError:
        raise ConfigError(
            f"unknown synthetic layout '{layout}'; known: {', '.join(sorted(LAYOUT_ALIASES))}"
        ) from None


def subject_folder_pattern(layout: str) -> str | None:
    """Where one subject's videos lie under data_root, `{subject}` left open (None for SAMM,
    whose video folders are not grouped by subject)."""
    name = layout_name(layout)
    if name == CASME2:
        return f"{CASME2_FRAMES_DIR}/{{subject}}"
    if name == CASME3:
        return f"{CASME3_PREFIX}/{{subject}}"
    return None


def subject_plan(subject_index: int, layout: str) -> SubjectPlan:
    """Subject i (0-based): casme2 -> s15, s16, ...; casme3 -> spNO.1, spNO.2, ...;
    samm_lv -> 006, 007, ..."""
    if subject_index < 0:
        raise ConfigError(f"subject index must be >= 0, got {subject_index}")
    name = layout_name(layout)
    if name == SAMM:
        return SubjectPlan(subject_index, f"{SAMM_FIRST_SUBJECT + subject_index:03d}", None)
    subject = f"s{CASME2_FIRST_SUBJECT + subject_index}"
    if name == CASME3:
        subject = f"spNO.{subject_index + 1}"
    folder = PurePath(subject_folder_pattern(name).format(subject=subject))
    return SubjectPlan(subject_index, subject, folder)


def video_plan(subject_index: int, video_index: int, layout: str) -> VideoPlan:
    """Video j (0-based) of subject i, named as in the real dataset."""
    subj = subject_plan(subject_index, layout)
    if layout_name(layout) == CASME2:
        if not 0 <= video_index < len(CASME2_VIDEOS):
            raise ConfigError(
                f"casme2 layout has {len(CASME2_VIDEOS)} video codes per subject; "
                f"video index {video_index} is out of range (lower videos_per_subject)"
            )
        code, name, description = CASME2_VIDEOS[video_index]
        number = subj.subject[1:]
        folder = subj.folder / f"{number}_{code}{description}"
        return VideoPlan(subj.subject, f"{subj.subject}_{code}", name, folder, "img{n}.jpg")
    if video_index < 0:
        raise ConfigError(f"video index must be >= 0, got {video_index}")
    if layout_name(layout) == CASME3:
        if video_index >= len(CASME3_VIDEOS):
            raise ConfigError(
                f"casme3 layout has {len(CASME3_VIDEOS)} videos per subject; video index "
                f"{video_index} is out of range (lower videos_per_subject)"
            )
        letter = CASME3_VIDEOS[video_index]
        folder = subj.folder / letter / "color"
        video = f"{subj.subject}_{letter}"
        return VideoPlan(
            subj.subject, video, letter, folder, "{n}.jpg", CASME3_FIRST_FRAME, CASME3_DROPS
        )
    video = f"{subj.subject}_{video_index + 1}"
    return VideoPlan(subj.subject, video, video, PurePath(video), video + "_{n:04d}.jpg")


def subject_videos(subject_index: int, preset_cfg: dict) -> list[VideoPlan]:
    """Every video the preset gives subject i."""
    layout = preset_cfg["layout"]
    n = int(preset_cfg["videos_per_subject"])
    return [video_plan(subject_index, j, layout) for j in range(n)]


def planned_videos(preset_cfg: dict, data_root: str | Path) -> pd.DataFrame:
    """DataFrame[subject, video, source]: what generation writes (source = absolute folder)."""
    root = Path(data_root).absolute()
    rows = [
        {"subject": v.subject, "video": v.video, "source": str(root / v.folder)}
        for i in range(int(preset_cfg["subjects"]))
        for v in subject_videos(i, preset_cfg)
    ]
    return pd.DataFrame(rows, columns=["subject", "video", "source"])
