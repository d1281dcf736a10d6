"""`tsmsnet spot`: a new video through preprocessing and both steps with a tiny run's models."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pandas as pd
import pytest
import torch
import zarr

from tests.media import write_mp4
from tsmsnet.config import cpu_kernel_pins, spot_config
from tsmsnet.datasets.frames import list_frames
from tsmsnet.errors import InputError
from tsmsnet.progressbar import BarLog, bar_log
from tsmsnet.recognition.model import RecognitionNet, RecognitionNetConfig
from tsmsnet.spot_cli import FPS_TOLERANCE, check_fps, input_fps, load_model_set
from tsmsnet.spot_recognition import load_recognizer
from tsmsnet.training.train import save_checkpoint

COLUMNS = ["video", "type", "onset", "offset", "score"]


def tsmsnet(*args: str) -> subprocess.CompletedProcess:
    code = "import sys; from tsmsnet.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600
    )


def test_progress_lines_become_bars_and_other_lines_pass_through():
    out = io.StringIO()
    with BarLog(out) as log:
        log("faces v1: 64/200 (32%)")
        log("face found on frame 3")
        log("faces v1: 200/200 (100%)")
        log("stride features (step 4) v1: 10/49 (20%) 0.5s")
    text = out.getvalue()
    assert "face found on frame 3" in text
    assert "faces v1: 100%" in text and "200/200" in text  # tqdm's bar line
    assert "stride features (step 4) v1" in text and "10/49" in text
    plain = io.StringIO()
    bar_log(plain)("faces v1: 64/200 (32%)")  # not a terminal: the line as it is
    assert plain.getvalue().rstrip().endswith("faces v1: 64/200 (32%)")


def test_fps_rules():
    path = Path("clip.mp4")
    check_fps(path, 30 * (1 - FPS_TOLERANCE / 2), 30.0, [])  # 29.85 fits 30
    check_fps(path, 25.0, None, [])  # models without a recorded fps: nothing to check
    with pytest.raises(InputError, match=r"clip.mp4 is 25 fps .* trained on 30 fps"):
        check_fps(path, 25.0, 30.0, [])
    assert input_fps(path, False, None, 30.0) == 30.0
    assert input_fps(path, False, 200.0, 30.0) == 200.0
    with pytest.raises(InputError, match="--fps"):
        input_fps(path, False, None, None)


@pytest.fixture(scope="module")
def fold(tiny_run):
    """Models of the fold holding out the first subject, its first video, the run's results."""
    res = tiny_run / "results" / "synthetic"
    videos = pd.read_csv(res / "videos.csv", dtype={"video": str, "subject": str})
    row = videos.iloc[0].copy()
    row["source"] = str(tiny_run / row["source"])  # relative to the project (or absolute)
    configs = sorted(p.name for p in (res / "spotting").iterdir())
    models = [res / "models" / c / row["subject"] for c in configs]
    return res, row, configs, models


def test_checkpoints_record_fps_and_preprocessing(fold, cfg):
    res, row, configs, models = fold
    for folder in models:
        payload = torch.load(folder / "interval.pt", map_location="cpu", weights_only=True)
        assert payload["format"] == 2 and "state_dict" in payload
        s = load_model_set(folder)
        assert s.fps == float(row["fps"])
        assert s.spot == spot_config(cfg, folder.parent.name) and s.name == folder.parent.name
        assert s.preprocess["stage2_stride"] == cfg["preprocess"]["stage2_stride"]
        assert s.preprocess["chunk_frames"] == cfg["preprocess"]["chunk_frames"]
        # The training jobs pinned their CPU kernels in time; `tsmsnet spot` pins the same.
        assert s.cpu_kernels == cpu_kernel_pins(cfg) != {}
        assert s.preprocess["face_size"] == cfg["preprocess"]["face_size"]
        assert s.preprocess["features"] == cfg["preprocess"]["features"]
        assert s.preprocess["flow"]["method"] == "dis"  # tests/configs/tiny.yaml
        interpolation = cfg["preprocess"]["face_interpolation"]
        assert s.preprocess["face_interpolation"] == interpolation
        faces = zarr.open_array(res / "faces" / f"{row['video']}.zarr", mode="r")
        assert faces.attrs["interpolation"] == interpolation
        apex = torch.load(folder / "apex.pt", map_location="cpu", weights_only=True)
        assert apex["net_cfg"]["input_scaling"] == cfg["datasets"]["casme2"]["stage1_input"]
        assert apex["net_cfg"]["init"] == payload["net_cfg"]["init"] == cfg["apex_net"]["init"]


def test_older_checkpoints_without_face_interpolation_were_area(tmp_path, cfg):
    """Checkpoints written before preprocess.face_interpolation existed resized with area."""
    from tsmsnet.preprocess.record import preprocess_record

    record = preprocess_record(cfg)
    del record["face_interpolation"]
    extra = {"spot": spot_config(cfg, "cas_micro").record(), "fps": 30.0, "preprocess": record}
    for name in ("apex.pt", "interval.pt"):
        torch.save({"format": 2, "extra": extra}, tmp_path / name)
    assert load_model_set(tmp_path).preprocess["face_interpolation"] == "area"


def model_args(models) -> list[str]:
    return [arg for m in models for arg in ("--models", str(m))]


def test_spot_an_mp4_writes_intervals_and_a_score_plot(fold, tmp_path):
    res, row, configs, models = fold
    video = tmp_path / "clip.mp4"
    n = write_mp4(Path(row["source"]), video, float(row["fps"]))
    out = tmp_path / "out"
    proc = tsmsnet("spot", str(video), *model_args(models), "--out", str(out), "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    intervals = pd.read_csv(out / "intervals.csv", dtype={"video": str})
    assert list(intervals.columns) == COLUMNS
    assert len(intervals) > 0 and set(intervals["video"]) == {"clip"}
    trained_types = {load_model_set(m).spot.type for m in models}
    assert set(intervals["type"]) <= trained_types
    assert (intervals["onset"] >= 1).all() and (intervals["offset"] <= n).all()
    assert (intervals["onset"] <= intervals["offset"]).all()
    scores = pd.read_csv(out / "scores.csv")
    assert set(scores["config"]) == set(configs)
    image = cv2.imread(str(out / "scores.png"))
    assert image is not None and image.size > 0 and image.std() > 0


def test_spot_a_frames_folder_matches_the_workflow(fold, tmp_path):
    res, row, configs, models = fold
    out = tmp_path / "out"
    proc = tsmsnet("spot", row["source"], *model_args(models), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    got = pd.read_csv(out / "intervals.csv").drop(columns="video")
    fold_rows = [
        pd.read_csv(res / "spotting" / c / row["subject"] / "step2.csv", dtype={"video": str})
        for c in configs
    ]
    want = pd.concat(fold_rows, ignore_index=True)
    want = want[want["video"] == row["video"]].drop(columns="video")
    key = ["onset", "type", "offset"]
    got = got.sort_values(key).reset_index(drop=True)
    want = want.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_fps_mismatch_is_one_line_and_exit_2(fold, tmp_path):
    res, row, configs, models = fold
    fps = float(row["fps"])
    wrong = round(fps * 0.8)
    video = tmp_path / "slow.mp4"
    write_mp4(Path(row["source"]), video, wrong)
    proc = tsmsnet("spot", str(video), *model_args(models[:1]), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert f"is {wrong:g} fps" in lines[0] and f"trained on {fps:g} fps" in lines[0]
    assert str(models[0]) in lines[0]
    proc = tsmsnet("spot", row["source"], "--models", str(tmp_path), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "apex.pt does not exist" in proc.stderr
    assert not (tmp_path / "o" / "intervals.csv").exists()


def renumbered(src: Path, dest: Path, numbers) -> Path:
    """src's frames copied into dest under new frame numbers (a test set's own naming)."""
    dest.mkdir(parents=True)
    for number, path in zip(numbers, list_frames(src), strict=False):
        shutil.copy(path, dest / f"{dest.name}_{number:05d}{path.suffix}")
    return dest


CLASSES = ("negative", "positive", "surprise", "others")


def save_recognizer(path: Path, fold_models: list[Path], cfg: dict, **record) -> Path:
    """An untrained recognition network recording the micro fold's K, preprocessing and CPU
    kernels, as a trained one does: naming is the CLI's part here, learning is
    tests/test_recognition.py's."""
    micro = next(m for m in fold_models if load_model_set(m).spot.type == "micro")
    extra = torch.load(micro / "apex.pt", map_location="cpu", weights_only=True)["extra"]
    net_cfg = RecognitionNetConfig.from_sections(
        cfg["recognition"], cfg["preprocess"]["features"], CLASSES
    )
    torch.manual_seed(0)
    keep = {k: extra[k] for k in ("preprocess", "cpu_kernels")}
    record = {"K": extra["spot"]["K"], "classes": list(CLASSES), **keep, **record}
    save_checkpoint(path, RecognitionNet(net_cfg), net_cfg, [1.0], record)
    return path


def test_recognizer_must_fit_the_spotting_models(fold, cfg, tmp_path):
    res, row, configs, models = fold
    sets = [load_model_set(m) for m in models]
    good = save_recognizer(tmp_path / "ok" / "s1" / "recognizer.pt", models, cfg)
    rec = load_recognizer(tmp_path / "ok", sets)
    assert rec.classes == CLASSES and rec.K == next(
        s.spot.K for s in sets if s.spot.type == "micro"
    )
    other = {**sets[0].preprocess, "face_size": sets[0].preprocess["face_size"] + 8}
    bad = save_recognizer(tmp_path / "bad.pt", models, cfg, preprocess=other)
    with pytest.raises(InputError, match=r"bad.pt was trained on other preprocessing .*face_size"):
        load_recognizer(bad, sets)
    with pytest.raises(InputError, match="no recognition model at"):
        load_recognizer(tmp_path, sets)
    assert good.is_file()


def test_spot_a_folder_of_videos_into_submission_files(fold, mini_frames, cfg, tmp_path):
    """CAS_data/<subject>/<clip>/: each clip spotted on its own into OUT/<subject>/<clip>/,
    all of them into OUT/intervals.csv and both submission files; frame numbers the names'."""
    res, row, configs, models = fold
    n = len(list_frames(mini_frames))
    root = tmp_path / "CAS_data"
    renumbered(mini_frames, root / "s1" / "a", range(1, n + 1))
    renumbered(mini_frames, root / "s2" / "b", range(101, n + 101))  # the same frames, later
    recognizer = tmp_path / "recognition"
    save_recognizer(recognizer / "s9" / "recognizer.pt", models, cfg)
    out = tmp_path / "out"
    args = ["--out", str(out), "--device", "cpu", "--recognizer", str(recognizer)]
    proc = tsmsnet("spot", str(root), *model_args(models), *args)
    assert proc.returncode == 0, proc.stderr
    assert "2 videos in" in proc.stderr and "videos: 2/2 (100%)" in proc.stderr
    tables = {}
    for vid in ("s1/a", "s2/b"):
        assert (out / vid / "scores.png").is_file()
        tables[vid] = [
            pd.read_csv(out / vid / name, dtype={"video": str})
            for name in ("intervals.csv", "scores.csv")
        ]
    (a, a_scores), (b, b_scores) = tables["s1/a"], tables["s2/b"]
    assert list(a.columns) == [*COLUMNS, "emotion", "emotion_score"]
    assert set(a["video"]) <= {"s1/a"} and len(a) > 0
    assert (a["onset"] >= 1).all() and (a["offset"] <= n).all()
    micro = a["type"] == "micro"
    assert set(a.loc[micro, "emotion"]) <= set(CLASSES) and a.loc[~micro, "emotion"].isna().all()
    # The same frames numbered from 101: the same scores and intervals, 100 frames later.
    later = {"video": "s2/b", "onset": a["onset"] + 100, "offset": a["offset"] + 100}
    pd.testing.assert_frame_equal(b, a.assign(**later))
    pd.testing.assert_frame_equal(
        b_scores, a_scores.assign(video="s2/b", frame=a_scores["frame"] + 100)
    )
    assert set(a_scores["config"]) == set(configs)
    intervals = pd.read_csv(out / "intervals.csv", dtype={"video": str})
    pd.testing.assert_frame_equal(intervals, pd.concat([a, b], ignore_index=True))
    submission = pd.read_csv(out / "submission" / "spotting.csv", dtype={"vid": str})
    assert list(submission.columns) == ["vid", "onset", "offset", "type"]
    want = pd.DataFrame(
        {
            "vid": intervals["video"],
            "onset": intervals["onset"],
            "offset": intervals["offset"],
            "type": intervals["type"].map({"micro": "me", "macro": "mae"}),
        }
    ).sort_values(["vid", "onset", "offset", "type"], ignore_index=True)
    pd.testing.assert_frame_equal(submission, want)
    # STR: the named micro-expressions but those named others, subject and clip apart.
    str_rows = pd.read_csv(out / "submission" / "str.csv", dtype={"subject": str, "video": str})
    assert list(str_rows.columns) == ["subject", "video", "onset", "offset", "emotion"]
    named = intervals[(intervals["type"] == "micro") & (intervals["emotion"] != "others")]
    want = pd.DataFrame(
        {
            "subject": named["video"].str.split("/").str[0].astype(str),
            "video": named["video"].str.split("/").str[1].astype(str),
            "onset": named["onset"],
            "offset": named["offset"],
            "emotion": named["emotion"],
        }
    ).reset_index(drop=True)
    pd.testing.assert_frame_equal(str_rows, want)


def test_a_bad_video_in_a_folder_stops_the_command_before_any_work(fold, mini_frames, tmp_path):
    res, row, configs, models = fold
    n = len(list_frames(mini_frames))
    root = tmp_path / "CAS_data"
    renumbered(mini_frames, root / "s1" / "a", range(1, n + 1))
    renumbered(mini_frames, root / "s2" / "b", [k for k in range(1, n + 2) if k != 10])
    out = tmp_path / "out"
    proc = tsmsnet("spot", str(root), *model_args(models), "--out", str(out))
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert f"frames folder {root / 's2' / 'b'}: frame numbers 1..{n + 1} miss 1 (10)" in line
    assert "--fill-gaps" in line
    assert not out.exists()  # checked before the first video was preprocessed


def test_installed_package_spots_a_frames_folder_without_the_checkout(fold, tmp_path):
    """`pip install .` (not editable) into a fresh venv, then `tsmsnet spot` from a folder that
    holds no config.yaml: everything comes from the checkpoints and the arguments."""
    import venv

    res, row, configs, models = fold
    import shutil

    repo = Path(__file__).resolve().parents[1]
    package = tmp_path / "package"  # a copy: the build writes into the tree it builds
    for name in ("pyproject.toml", "README.md"):
        package.mkdir(exist_ok=True)
        shutil.copy(repo / name, package / name)
    shutil.copytree(repo / "src", package / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-build-isolation", "--no-cache-dir", "-q", str(package)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    where = subprocess.run(
        [str(python), "-c", "import tsmsnet; print(tsmsnet.__file__)"],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert where.stdout.strip().startswith(str(env_dir)), where
    out = tmp_path / "out"
    proc = subprocess.run(
        [str(env_dir / "bin" / "tsmsnet"), "spot", row["source"], *model_args(models),
         "--out", str(out)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    got = pd.read_csv(out / "intervals.csv")
    assert list(got.columns) == COLUMNS
    assert set(got["video"].astype(str)) == {Path(row["source"]).name}  # a folder: its name
    assert (out / "scores.png").is_file()
