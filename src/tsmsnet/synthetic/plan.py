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
SAMM = "samm_lv"
LAYOUT_ALIASES = {"casme2": CASME2, "samm_lv": SAMM, "samm": SAMM}

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

    def frame_file(self, number: int) -> str:
        """File name of frame `number` (1-based, as the annotation counts)."""
        return self.frame_pattern.format(n=number)


def layout_name(layout: str) -> str:
    """Canonical layout name (casme2 or samm_lv); ConfigError for anything else."""
    try:
        return LAYOUT_ALIASES[layout]
    except KeyError:
        raise ConfigError(
            f"unknown synthetic layout '{layout}'; known: {', '.join(sorted(LAYOUT_ALIASES))}"
        ) from None


def subject_plan(subject_index: int, layout: str) -> SubjectPlan:
    """Subject i (0-based): casme2 -> s15, s16, ...; samm_lv -> 006, 007, ..."""
    if subject_index < 0:
        raise ConfigError(f"subject index must be >= 0, got {subject_index}")
    if layout_name(layout) == CASME2:
        subject = f"s{CASME2_FIRST_SUBJECT + subject_index}"
        return SubjectPlan(subject_index, subject, PurePath(CASME2_FRAMES_DIR, subject))
    return SubjectPlan(subject_index, f"{SAMM_FIRST_SUBJECT + subject_index:03d}", None)


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
