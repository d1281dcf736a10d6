"""`tsmsnet spot` on a folder of videos: finding, naming and checking them, no models run."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.media import write_mp4
from tsmsnet.config import spot_config
from tsmsnet.errors import InputError
from tsmsnet.preprocess.record import preprocess_record
from tsmsnet.spot_cli import plan_video
from tsmsnet.spot_inputs import find_videos, subject_and_clip
from tsmsnet.spotting.model_sets import ModelSet


def frames(folder: Path, numbers, name="img{}.jpg") -> Path:
    """Empty numbered image files: finding and planning read names only."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in numbers:
        (folder / name.format(n)).touch()
    return folder


def ids(videos) -> list[tuple[str, str, str, str]]:
    return [(v.video, v.subject, v.clip, v.source.name) for v in videos]


def test_cas_data_layout_is_subject_slash_clip(tmp_path):
    root = tmp_path / "CAS_data"
    frames(root / "spNO.2" / "b", range(1, 4))
    frames(root / "spNO.1" / "a", range(1, 4))
    frames(root / "spNO.1" / "c", range(5, 9))
    (root / "readme.txt").write_text("not a video")  # other files are left alone
    (root / ".DS_Store").touch()
    videos, is_set = find_videos(root)
    assert is_set
    assert ids(videos) == [
        ("spNO.1/a", "spNO.1", "a", "a"),
        ("spNO.1/c", "spNO.1", "c", "c"),
        ("spNO.2/b", "spNO.2", "b", "b"),
    ]
    assert videos[0].source == root / "spNO.1" / "a"


def test_samm_layout_and_video_files_are_named_by_their_folder_or_stem(tmp_path):
    root = tmp_path / "SAMM"
    frames(root / "011_3", range(1, 4), "011_3_{:05d}.jpg")
    frames(root / "001_2", range(1, 4), "001_2_{:05d}.jpg")
    (root / "016_7.mp4").touch()
    (root / "clip.AVI").touch()
    videos, is_set = find_videos(root)
    assert is_set
    assert ids(videos) == [
        ("001_2", "001", "001_2", "001_2"),
        ("011_3", "011", "011_3", "011_3"),
        ("016_7", "016", "016_7", "016_7.mp4"),
        ("clip", "clip", "clip", "clip.AVI"),
    ]


def test_single_inputs_keep_their_own_name(tmp_path):
    folder = frames(tmp_path / "006_1", range(1, 4))
    videos, is_set = find_videos(folder)
    assert not is_set and ids(videos) == [("006_1", "006", "006_1", "006_1")]
    videos, is_set = find_videos(tmp_path / "clip.mp4")  # not there: FrameSource will say so
    assert not is_set and ids(videos) == [("clip", "clip", "clip", "clip.mp4")]
    # An output folder inside a frames folder is not a subfolder of mixed content.
    (folder / "spotted" / "work").mkdir(parents=True)
    videos, is_set = find_videos(folder, out=folder / "spotted")
    assert not is_set and [v.video for v in videos] == ["006_1"]


def test_output_folder_inside_a_set_is_no_video(tmp_path):
    frames(tmp_path / "CAS_data" / "s1" / "a", range(1, 4))
    (tmp_path / "CAS_data" / "out" / "s1" / "a" / "work").mkdir(parents=True)
    videos, _ = find_videos(tmp_path / "CAS_data", out=tmp_path / "CAS_data" / "out")
    assert [v.video for v in videos] == ["s1/a"]


def test_subject_and_clip():
    assert subject_and_clip("spNO.1/a") == ("spNO.1", "a")
    assert subject_and_clip("s1/x/y") == ("s1", "x/y")
    assert subject_and_clip("006_1_2") == ("006", "006_1_2")
    assert subject_and_clip("clip") == ("clip", "clip")


def empty_folder(root: Path) -> None:
    (root / "s1" / "b").mkdir(parents=True)


def notes_only(root: Path) -> None:
    (root / "s1" / "b").mkdir(parents=True)
    (root / "s1" / "b" / "notes.txt").touch()


def frames_beside_a_folder(root: Path) -> None:
    frames(root / "s1" / "a" / "depth", range(1, 3))


def frames_beside_a_video(root: Path) -> None:
    (root / "s1" / "a" / "x.mp4").touch()


@pytest.mark.parametrize(
    ("make", "bad", "message"),
    [
        (empty_folder, "s1/b", "holds no frames"),
        (notes_only, "s1/b", "holds no frames"),
        (frames_beside_a_folder, "s1/a", "holds frame images beside subfolders"),
        (frames_beside_a_video, "s1/a", "holds frame images beside video files"),
    ],
)
def test_bad_folders_are_named(tmp_path, make, bad, message):
    root = tmp_path / "CAS_data"
    frames(root / "s1" / "a", range(1, 4))
    make(root)
    with pytest.raises(InputError, match=message) as err:
        find_videos(root)
    assert str(root / bad) in str(err.value)


def test_empty_input_and_clashing_ids_are_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"empty holds no frames, video files"):
        find_videos(tmp_path / "empty")
    root = tmp_path / "set"
    frames(root / "a", range(1, 4))
    (root / "a.mp4").touch()
    with pytest.raises(InputError, match=r"would all be video a"):
        find_videos(root)


@pytest.fixture
def micro_set(cfg) -> ModelSet:
    """A model set's records without checkpoints: planning reads no weights."""
    return ModelSet(
        folder=Path("models/cas_micro"),
        folds=(Path("models/cas_micro"),),
        spot=spot_config(cfg, "cas_micro"),
        fps=30.0,
        preprocess=preprocess_record(cfg),
        cpu_kernels={},
    )


def test_planning_counts_frames_and_fills_gaps_only_when_asked(tmp_path, micro_set):
    K = micro_set.spot.K
    numbers = [n for n in range(3, 3 + K + 4) if n not in (7, 8)]  # CAS(ME)^3: from 3, drops
    (v,), _ = find_videos(frames(tmp_path / "a", numbers))
    with pytest.raises(
        InputError, match=r"a: frame numbers 3\.\.\d+ miss 2 \(7, 8\); pass --fill-gaps"
    ):
        plan_video(v, None, 30.0, [micro_set], fill_gaps=False)
    p = plan_video(v, None, 30.0, [micro_set], fill_gaps=True)
    assert (p.n_frames, p.fps, p.filled) == (K + 4, 30.0, 2)


def test_planning_refuses_short_videos_and_wrong_fps(tmp_path, micro_set):
    K = micro_set.spot.K
    (v,), _ = find_videos(frames(tmp_path / "short", range(1, K + 1)))
    with pytest.raises(InputError, match=rf"short has {K} frames but config cas_micro \(K={K}\)"):
        plan_video(v, None, 30.0, [micro_set], fill_gaps=False)
    # A video file's own rate must fit the models'; --fps overrides it for every video.
    real = tmp_path / "real"
    real.mkdir()
    for n in range(1, K + 3):
        cv2.imwrite(str(real / f"img{n}.png"), np.full((16, 16, 3), 10 * n, np.uint8))
    (tmp_path / "set" / "s1").mkdir(parents=True)
    write_mp4(real, tmp_path / "set" / "s1" / "clip.mp4", 25.0)
    (v,), is_set = find_videos(tmp_path / "set")
    assert is_set and v.video == "s1/clip"
    with pytest.raises(InputError, match=r"clip.mp4 is 25 fps .* trained on 30 fps"):
        plan_video(v, None, 30.0, [micro_set], fill_gaps=False)
    assert plan_video(v, 30.0, 30.0, [micro_set], fill_gaps=False).n_frames == K + 2


def test_a_video_failing_mid_run_is_named_and_the_earlier_ones_kept(tmp_path, monkeypatch):
    """spot_all spots each video into its own folder; an error names the video that raised."""
    import argparse

    import pandas as pd

    from tsmsnet import spot_cli
    from tsmsnet.errors import NoFaceError

    root = tmp_path / "CAS_data"
    for clip in ("s1/a", "s1/b", "s2/c"):
        frames(root / clip, range(1, 4))
    videos, _ = find_videos(root)
    planned = [spot_cli.PlannedVideo(input=v, n_frames=3, fps=30.0, filled=0) for v in videos]
    done = []

    def fake_spot_video(p, sets, rec, out, args, log):
        if p.input.video == "s1/b":
            raise NoFaceError(f"no face found in the first frames of {p.input.source}")
        done.append(out)
        return pd.DataFrame({"video": [p.input.video], "type": ["micro"], "onset": [1]})

    monkeypatch.setattr(spot_cli, "spot_video", fake_spot_video)
    lines = []
    with pytest.raises(InputError) as err:
        spot_cli.spot_all(
            planned, [], None, tmp_path / "out", argparse.Namespace(), True, lines.append
        )
    message = str(err.value)
    assert message.startswith(f"video s1/b ({root / 's1' / 'b'}): no face found")
    assert f"before it are spotted in {tmp_path / 'out'}" in message
    assert done == [tmp_path / "out" / "s1" / "a"] and lines[-1].startswith("videos: 1/3 (33%)")
    table = spot_cli.spot_all(planned[::2], [], None, tmp_path / "o", None, True, lines.append)
    assert table["video"].tolist() == ["s1/a", "s2/c"] and lines[-1].startswith("videos: 2/2")
