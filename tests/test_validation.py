"""Bad input fails before expensive work, with one line naming the file, row or frame and the fix.

Dataset-wide checks run while Snakemake builds the DAG (tsmsnet.validate, called by
common.smk), so a dry run already stops with exit status 1 and nothing written. What only
decoding can tell (an empty, corrupt or differently sized frame; no face) fails in the first
job that decodes, naming the frame, and leaves no store behind.

Reader-level messages are tested where they live (test_readers_*.py, test_frames.py,
test_landmarks.py); here the same inputs go through the DAG-time check and the real CLI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests.upstream_helpers import fake_checkout
from tests.workflow_helpers import TINY, clone_run, make_project, scheduled, snakemake
from tsmsnet.config import REPO_ROOT
from tsmsnet.datasets import read_dataset
from tsmsnet.datasets.workbooks import write_casme2_workbook
from tsmsnet.errors import AnnotationError, ConfigError, FramesError, InputError
from tsmsnet.validate import check_config, check_dataset, check_workflow

SCHEMA = REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml"
WORKBOOK = "CAS(ME)^2code_final.xlsx"
# Frames per video: enough for the longest stage-1 skip of the CAS configs (K=31 -> 32 frames).
N_FRAMES = 40
# subject -> video folders; s16_0401 has no annotation (kept: only predictions count there).
FOLDERS = {
    "s15": ["15_0101disgustingteeth"],
    "s16": ["16_0101disgustingteeth", "16_0401angerwhirlwind"],
}
ROWS = pd.DataFrame(
    [("s15", "disgust1", 1, 5, 8, 12, "macro"), ("s16", "disgust1", 1, 3, 4, 6, "micro")],
    columns=["subject", "video_name", "expression_number", "onset", "apex", "offset", "type"],
)


def write_frames(folder: Path, n: int, first: int = 1) -> Path:
    ok, jpg = cv2.imencode(".jpg", np.zeros((8, 8), np.uint8))
    assert ok
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(first, first + n):
        jpg.tofile(folder / f"img{i}.jpg")
    return folder


def make_cas(root: Path, rows: pd.DataFrame = ROWS, subjects=("s15", "s16")) -> Path:
    """A tiny CAS(ME)^2 copy: 8x8 frames in rawpic/ and the workbook as distributed."""
    for subject in subjects:
        for video in FOLDERS[subject]:
            write_frames(root / "rawpic" / subject / video, N_FRAMES)
    write_casme2_workbook(root / WORKBOOK, rows, ["s15", "s16", "s17"])
    return root


def video_dir(root: Path, subject: str, index: int = 0) -> Path:
    return root / "rawpic" / subject / FOLDERS[subject][index]


def set_cell(root: Path, cell: str, value) -> None:
    wb = openpyxl.load_workbook(root / WORKBOOK)
    wb["CASFEcode_final"][cell] = value
    wb.save(root / WORKBOOK)


@pytest.fixture
def cas_cfg(cfg, tmp_path):
    cfg.update(dataset="casme2", data_root=str(make_cas(tmp_path / "cas")))
    return cfg


# ---- the DAG-time check, called directly --------------------------------------------------


def test_clean_dataset_passes_and_keeps_the_unannotated_video(cas_cfg):
    checked = check_dataset(cas_cfg)
    assert checked.videos["video"].tolist() == ["s15_0101", "s16_0101", "s16_0401"]
    assert checked.types == {"s15": {"macro"}, "s16": {"micro"}}  # from the workbook's rows
    messages: list[str] = []
    read_dataset("casme2", cas_cfg["data_root"], cas_cfg["datasets"]["casme2"], messages.append)
    assert "1 video(s) without annotations (kept): s16_0401" in "\n".join(messages)


def _drop_frames(root):
    for frame in video_dir(root, "s15").iterdir():
        frame.unlink()


def _shorten(root):
    folder = video_dir(root, "s16", 1)
    shutil.rmtree(folder)
    write_frames(folder, 20)


def _absent_video(root):
    rows = pd.concat([ROWS, ROWS.iloc[:1].assign(subject="s17")], ignore_index=True)
    write_casme2_workbook(root / WORKBOOK, rows, ["s15", "s16", "s17"])


@pytest.mark.parametrize(
    "damage, error, message",
    [
        (
            lambda root: (root / WORKBOOK).write_bytes(b"PK\x03\x04 half a zip"),
            AnnotationError,
            r"workbook .*CAS\(ME\)\^2code_final.xlsx cannot be opened .*save it again as .xlsx",
        ),
        (
            _drop_frames,
            FramesError,
            r"frames folder .*15_0101disgustingteeth holds no frames .*: extract the video's "
            "frames into it or remove the folder",
        ),
        (
            _absent_video,
            AnnotationError,
            r"CASFEcode_final', row 3 \(s17_0101 macro onset 5 apex 8 offset 12\) names video "
            "s17_0101, which has no frames under the data root: add its frames or remove the row",
        ),
        (
            _shorten,
            InputError,
            r"video s16_0401 \(.*16_0401angerwhirlwind\) has 20 frames but config cas_macro "
            r"\(K=31\) needs at least 32: remove the video \(and its annotations\) from the "
            "dataset or lower configs.cas_macro.K",
        ),
    ],
    ids=["unreadable-workbook", "empty-video-folder", "row-names-absent-video", "short-video"],
)
def test_dataset_errors_name_the_place_and_the_fix(cas_cfg, damage, error, message):
    damage(Path(cas_cfg["data_root"]))
    with pytest.raises(error, match=message):
        check_workflow(cas_cfg, SCHEMA)


def test_empty_data_root_says_how_to_set_it(cas_cfg):
    cas_cfg["data_root"] = ""
    with pytest.raises(ConfigError) as err:
        check_workflow(cas_cfg, SCHEMA)
    assert str(err.value) == (
        "dataset=casme2 needs data_root: run with --config dataset=casme2 data_root=/path/to/casme2"
    )


def test_cluster_jobs_skip_rereading_the_dataset(cas_cfg):
    _shorten(Path(cas_cfg["data_root"]))
    checked = check_workflow(cas_cfg, SCHEMA, read_data=False)  # folder names only: passes
    assert checked.types is None and checked.upstream is None


# ---- models=upstream: the checkout, and a fold for every subject that needs one -----------


def test_upstream_models_need_a_checkout(cas_cfg, tmp_path):
    cas_cfg["models"] = "upstream"
    with pytest.raises(ConfigError) as err:
        check_workflow(cas_cfg, SCHEMA)
    assert str(err.value) == (
        "models=upstream needs upstream_weights, the folder of a clone of "
        "https://github.com/xly135846/MEGC2021: run with --config models=upstream "
        "upstream_weights=/path/to/MEGC2021"
    )
    (tmp_path / "clone").mkdir()
    cas_cfg["upstream_weights"] = str(tmp_path / "clone")
    with pytest.raises(InputError) as err:
        check_workflow(cas_cfg, SCHEMA)
    assert str(err.value).startswith(
        f"upstream_weights: {tmp_path / 'clone'} is not a checkout of upstream "
        "(xly135846/MEGC2021): no "
    )


def test_upstream_models_only_for_the_configs_upstream_published(cas_cfg, tmp_path):
    checkout = fake_checkout(tmp_path / "MEGC2021", cas_cfg, {"cas_micro": ["s16"]})
    cas_cfg.update(models="upstream", upstream_weights=str(checkout))
    cas_cfg["datasets"]["casme2"]["configs"] = ["cas_micro", "samm_micro"]
    with pytest.raises(ConfigError) as err:
        check_workflow(cas_cfg, SCHEMA)
    assert str(err.value) == (
        "models=upstream: upstream published no weights of config samm_micro for casme2 data "
        "(published for casme2: cas_micro, cas_macro); set datasets.casme2.configs to those or "
        "use models=trained"
    )
    cas_cfg["datasets"]["casme2"]["configs"] = ["cas_micro", "cas_macro"]
    with pytest.raises(InputError, match="upstream's weights have no fold of cas_macro"):
        check_workflow(cas_cfg, SCHEMA)


def test_upstream_folds_spot_each_subject_by_its_ground_truth_types(cas_cfg, tmp_path):
    """s15 holds macro only, s16 micro only: as upstream, the micro folds are s16's alone."""
    folds = {"cas_micro": ["s16"], "cas_macro": ["s15"]}
    checkout = fake_checkout(tmp_path / "MEGC2021", cas_cfg, folds)
    cas_cfg.update(models="upstream", upstream_weights=str(checkout))
    checked = check_workflow(cas_cfg, SCHEMA)
    assert checked.upstream.subjects("cas_micro") == ["s16"]
    assert checked.spotted_by == {
        ("cas_micro", "s15"): ["s16"],  # no micro in s15: no fold saw it
        ("cas_micro", "s16"): ["s16"],
        ("cas_macro", "s15"): ["s15"],
        ("cas_macro", "s16"): ["s15"],
    }


def test_a_subject_with_the_type_but_no_upstream_fold_is_an_error(cas_cfg, tmp_path):
    folds = {"cas_micro": ["s15"], "cas_macro": ["s15"]}
    checkout = fake_checkout(tmp_path / "MEGC2021", cas_cfg, folds)
    cas_cfg.update(models="upstream", upstream_weights=str(checkout))
    with pytest.raises(InputError) as err:
        check_workflow(cas_cfg, SCHEMA)
    assert str(err.value).startswith(
        "subject s16 holds ground truth of cas_micro's type but upstream's weights have no fold "
        "holding it out (folds: s15): every fold trained on it"
    )
    # A cluster job re-reading the workflow knows no types; the main process checked them.
    checked = check_workflow(cas_cfg, SCHEMA, read_data=False)
    assert checked.spotted_by[("cas_micro", "s16")] == ["s15"]


def test_synthetic_preset_too_short_for_K(cfg):
    cfg["synthetic"]["preset"] = "tiny"
    cfg["synthetic"]["presets"]["tiny"]["frames"] = 20
    with pytest.raises(ConfigError) as err:
        check_workflow(cfg, SCHEMA)
    assert str(err.value) == (
        "synthetic preset tiny has 20 frames per video but config cas_macro (K=31) needs at "
        "least 32: raise synthetic.presets.tiny.frames or lower configs.cas_macro.K"
    )


def test_unknown_spotting_config_named_by_a_dataset(cfg):
    cfg["datasets"]["casme2"]["configs"] = ["cas_micro", "cas_mikro"]
    with pytest.raises(ConfigError, match="unknown spotting config 'cas_mikro'; known: cas_macro"):
        check_workflow(cfg, SCHEMA)


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda c: c["datasets"]["casme2"].update(fsp=30),
            "unknown config key(s) datasets.casme2.fsp (known here: configs, emotions, fps, "
            "frames_dirs,",
        ),
        (
            lambda c: c["configs"]["cas_micro"].update(P=1.5),
            "config configs.cas_micro.P: 1.5 is greater than the maximum of 1: fix config.yaml",
        ),
        (
            lambda c: c["apex_net"].update(epochs="ten"),
            "config apex_net.epochs: 'ten' is not of type 'integer'",
        ),
        (
            lambda c: c["preprocess"]["flow"].update(method="farneback"),
            "config preprocess.flow.method: 'farneback' is not one of ['auto', 'tvl1', ",
        ),
        (
            lambda c: c["synthetic"]["presets"]["default"].update(train={"apex_net": {"batch": 8}}),
            "unknown config key(s) synthetic.presets.default.train.apex_net.batch",
        ),
        (
            lambda c: c["interval_net"].update(cache_mb=0),
            "config interval_net.cache_mb: 0 is less than or equal to the minimum of 0",
        ),
        (
            lambda c: c["datasets"]["samm_lv"]["emotions"].update(anger="angry"),
            "config datasets.samm_lv.emotions.anger: 'angry' is not one of ['negative', ",
        ),
    ],
    ids=[
        "unknown-nested-key",
        "out-of-range",
        "wrong-type",
        "unknown-choice",
        "override-typo",
        "cache-not-positive",
        "emotion-class",
    ],
)
def test_schema_errors_name_the_key(cfg, edit, message):
    check_config(cfg, SCHEMA)
    edit(cfg)
    with pytest.raises(ConfigError) as err:
        check_config(cfg, SCHEMA)
    assert message in str(err.value) and "\n" not in str(err.value)


# ---- through the snakemake CLI: a dry run stops, nothing is written ---------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return make_project(tmp_path_factory.mktemp("validation") / "project")


def dry_run(project: Path, *config: str) -> tuple[int, str]:
    proc = snakemake(project, "-n", "--config", *config, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def tsmsnet_line(out: str) -> str:
    lines = [line for line in out.splitlines() if line.startswith("tsmsnet: ")]
    assert len(lines) == 1, out
    assert "Traceback" not in out, out
    return lines[0]


def _gap(root):
    (video_dir(root, "s16") / "img7.jpg").unlink()


def _one_subject(root):
    shutil.rmtree(root / "rawpic" / "s16")


@pytest.mark.workflow
@pytest.mark.parametrize(
    "damage, message",
    [
        (
            lambda root: set_cell(root, "C1", 20),
            "tsmsnet: {root}/CAS(ME)^2code_final.xlsx, sheet 'CASFEcode_final', row 1 "
            "(s15_0101 macro onset 20 apex 8 offset 12): onset is after offset; fix the row",
        ),
        (
            _gap,
            "tsmsnet: frames folder {root}/rawpic/s16/16_0101disgustingteeth: frame numbers "
            "1..40 have gaps, missing 7; frames must be consecutive: re-extract the missing",
        ),
        (
            _shorten,
            "tsmsnet: video s16_0401 ({root}/rawpic/s16/16_0401angerwhirlwind) has 20 frames "
            "but config cas_macro (K=31) needs at least 32",
        ),
        (
            _one_subject,
            "tsmsnet: leave-one-subject-out needs at least two subjects, found 1 (s15); add "
            "subjects or use another dataset",
        ),
    ],
    ids=["onset-after-offset", "frame-gap", "short-video", "one-subject"],
)
def test_cli_dry_run_stops_on_bad_data(project, tmp_path, damage, message):
    root = make_cas(tmp_path / "cas")
    damage(root)
    code, out = dry_run(project, "dataset=casme2", f"data_root={root}")
    assert code == 1, out
    assert message.format(root=root.resolve()) in tsmsnet_line(out)
    assert not (project / "results").exists()


@pytest.mark.workflow
def test_cli_missing_data_root(project, tmp_path):
    code, out = dry_run(project, "dataset=casme2", f"data_root={tmp_path / 'nope'}")
    assert code == 1
    assert tsmsnet_line(out) == (
        f"tsmsnet: data_root '{tmp_path / 'nope'}' does not exist or is not a folder; "
        "check the path"
    )
    assert not (project / "results").exists()


@pytest.mark.workflow
def test_cli_config_errors_name_the_keys(project):
    code, out = dry_run(project, "frames=30", "seed=-1")
    assert code == 1
    line = tsmsnet_line(out)
    assert line.startswith("tsmsnet: unknown config key(s) frames (known here: apex_net,")
    assert "; config seed: -1 is less than the minimum of 0: fix config.yaml or the" in line
    code, out = dry_run(project, "dataset=casme4")
    assert code == 1
    assert tsmsnet_line(out) == (
        "tsmsnet: config dataset: 'casme4' is not one of ['synthetic', 'casme2', 'casme3', "
        "'samm_lv', 'sheet']: fix config.yaml or the --config / --configfile override"
    )
    assert not (project / "results").exists()


@pytest.mark.workflow
def test_cli_non_ascii_path_and_unannotated_video_run(project, tmp_path):
    """A path with spaces and non-ASCII letters passes; the video without rows is kept."""
    root = make_cas(tmp_path / "données vidéo" / "CAS(ME)² 顔")
    jobs = scheduled(project, "--config", "dataset=casme2", f"data_root={root}")
    assert {wc["video"] for rule, wc in jobs if rule == "faces"} == {
        "s15_0101",
        "s16_0101",
        "s16_0401",
    }


# ---- through the snakemake CLI: what only decoding finds fails in its job --------------


@pytest.mark.workflow
def test_decoding_errors_fail_their_job_naming_the_frame(tiny_run, tmp_path):
    """Empty frame and other-size frame: faces job; no face: landmarks job; no store left."""
    root = tmp_path / "CAS copy é"
    shutil.copytree(tiny_run / "results/synthetic/data", root)
    videos = pd.read_csv(tiny_run / "results/synthetic/videos.csv")
    parts = {v: Path(s).parts for v, s in zip(videos["video"], videos["source"], strict=True)}
    folders = {v: root.joinpath(*p[p.index("rawpic") :]) for v, p in parts.items()}
    (folders["s15_0101"] / "img100.jpg").write_bytes(b"")
    other = cv2.imencode(".jpg", np.zeros((80, 100), np.uint8))[1]
    other.tofile(folders["s16_0101"] / "img120.jpg")
    blank = cv2.imencode(".jpg", np.full((200, 200), 128, np.uint8))[1]
    for i in (1, 2, 3):
        blank.tofile(folders["s17_0101"] / f"img{i}.jpg")
    project = make_project(tmp_path / "project")
    (project / "search.yaml").write_text("preprocess: {landmarks: {search_frames: 3}}\n")
    targets = [f"results/casme2/faces/{v}.zarr" for v in folders]
    proc = snakemake(
        project,
        "--cores",
        "1",
        "--keep-going",
        *targets,
        "--configfile",
        "search.yaml",
        "--config",
        "dataset=casme2",
        f"data_root={root}",
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert (
        f"tsmsnet: faces: frame 100 ({folders['s15_0101']}/img100.jpg) is an empty file: "
        "re-extract or remove it"
    ) in out
    assert (
        f"tsmsnet: faces: frame 120 ({folders['s16_0101']}/img120.jpg) is 100x80 but the "
        "first frame is 200x200 (W x H): all frames of a video must have one size"
    ) in out
    assert (
        f"tsmsnet: landmarks: {folders['s17_0101']}: no face found in the first 3 frame(s) "
        "searched; raise preprocess.landmarks.search_frames"
    ) in out
    results = project / "results" / "casme2"
    assert sorted(p.name for p in (results / "landmarks").iterdir()) == [
        "s15_0101.json",
        "s16_0101.json",
    ]
    assert not (results / "faces").exists() or list((results / "faces").iterdir()) == []


@pytest.mark.workflow
def test_cuda_without_gpu_falls_back_to_cpu_with_a_warning(tiny_run, tmp_path):
    project = clone_run(tiny_run, tmp_path / "p")
    target = "results/synthetic/spotting/cas_micro/s15/step1.csv"
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONUNBUFFERED": "1"}
    # Only this spot job: mtime triggers keep the trained folds (whose device param changed).
    args = [target, "--cores", "1", "--rerun-triggers", "mtime", "--forcerun", "spot"]
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", *args, *TINY, "--config", "device=cuda"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Finished jobid: 0 (Rule: spot)" in proc.stdout + proc.stderr
    assert "1 of 1 steps (100%) done" in proc.stdout + proc.stderr
    log = (project / "results/synthetic/logs/spot/cas_micro/s15.log").read_text()
    assert "device 'cuda' was requested but torch sees no CUDA GPU; running on the CPU" in log
    for name in ("step1.csv", "step2.csv"):
        rel = f"results/synthetic/spotting/cas_micro/s15/{name}"
        assert (project / rel).read_bytes() == (tiny_run / rel).read_bytes()


def test_job_environment_adds_malloc_settings_and_keeps_the_users(cfg):
    from tsmsnet.config import job_environment

    environ = {"MALLOC_TOP_PAD_": "1"}
    added = job_environment(cfg, environ)
    assert environ["MALLOC_TOP_PAD_"] == "1" and "MALLOC_TOP_PAD_" not in added
    for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        assert environ[name] == added[name] == str(cfg["malloc"][name])
    assert job_environment(cfg, environ) == {}
