# No rules here: config validation, the video table, wildcard constraints, input functions.
# Input functions run once per job (about a thousand at full scale): they look up dicts built
# once here, never the pandas table.
import os
import re
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from snakemake.utils import validate

from tsmsnet import pipeline
from tsmsnet import validate as checks
from tsmsnet.config import (
    dataset_configs,
    job_environment,
    spot_config,
    synthetic_preset,
    training,
)
from tsmsnet.preprocess.flow import uses_cuda

# Bad config or input stops here, before any job: one line naming the key, file, sheet, row
# or frame and the fix, exit status 1, nothing written (see tsmsnet.validate). Jobs that a
# cluster executor re-parses this file for skip re-reading the dataset.
with checks.exit_on_error():
    checks.check_workflow(
        config,
        f"{workflow.basedir}/workflow/schemas/config.schema.yaml",
        read_data=workflow.is_main_process,
    )
validate(config, schema="../schemas/config.schema.yaml")
# Jobs inherit the environment: glibc malloc settings from config.yaml `malloc`.
job_environment(config, os.environ)

RESULTS = pipeline.results_dir(config)
DATASET = config["dataset"]
READER = pipeline.reader_name(config)
VIDEOS = pipeline.video_table(config)
SUBJECTS = pipeline.subjects(VIDEOS)
CONFIGS = dataset_configs(config)
SOURCE = dict(zip(VIDEOS["video"], VIDEOS["source"]))
SUBJECT_OF = dict(zip(VIDEOS["video"], VIDEOS["subject"]))
VIDEOS_OF = {s: pipeline.videos_of(VIDEOS, s) for s in SUBJECTS}
TRAINING_VIDEOS = {s: pipeline.videos_except(VIDEOS, s) for s in SUBJECTS}
SYNTHETIC = DATASET == "synthetic"
LAYOUT = synthetic_preset(config)["layout"] if SYNTHETIC else None
SYN_DATA = pipeline.synthetic_data_root(config)
# 1 where the flow jobs compute on a CUDA GPU (flow method auto or tvl1_torch, a GPU here
# under `device`): they then take the gpu resource like training. Decided where the DAG is
# built, as the jobs decide their method where they run: a head node without a GPU sends
# them to CPU nodes, where auto is OpenCV's TV-L1.
FLOW_GPUS = int(uses_cuda(config["preprocess"]["flow"]["method"], config["device"]))
# Order among runnable jobs, higher first: the long jobs that gate the most others start
# first, so the short ones (spotting, plots) fill the cores at the end rather than one
# training job running alone (docs/benchmarks.md, "Whole default pipeline").
PRIORITY = {
    "stage1_features": 4,
    "stage2_features": 3,
    "train_apex": 2,
    "train_interval": 1,
}


def _alternation(names):
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


wildcard_constraints:
    video=_alternation(VIDEOS["video"]),
    subject=_alternation(SUBJECTS),
    config=_alternation(CONFIGS),


def K_of(name):
    return spot_config(config, name).K


def readers_root(wildcards):
    """The folder the readers (and the synthetic generator) work in."""
    return SYN_DATA if SYNTHETIC else pipeline.data_root(config)


def frames_input(wildcards):
    """What a per-video job waits for: the generating job's output, or the frames themselves."""
    source = SOURCE[wildcards.video]
    if SYNTHETIC and LAYOUT == "casme2":
        return f"{SYN_DATA}/rawpic/{SUBJECT_OF[wildcards.video]}"
    return source


@cache
def _fingerprints():
    """Every video's frames fingerprint, once per DAG build (landmarks and faces share it).

    One scandir and a stat per frame each (~1M stats for SAMM-LV), on threads: stat releases
    the GIL.
    """
    sources = sorted(set(SOURCE.values()))
    workers = min(8, len(sources), os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        prints = pool.map(lambda s: pipeline.frames_fingerprint(config, s), sources)
        return dict(zip(sources, prints))


def frames_fingerprint(wildcards):
    return _fingerprints()[SOURCE[wildcards.video]]


def stage1_store(video, name):
    return f"{RESULTS}/features/stage1/K{K_of(name)}/{video}.zarr"


def stage2_store(video):
    return f"{RESULTS}/features/stage2/{video}.zarr"


def annotation_inputs():
    """Workbook(s) and frames folders the readers read."""
    if SYNTHETIC:
        return {
            "workbook": f"{SYN_DATA}/{synthetic_workbook_name()}",
            "frames": synthetic_outputs(),
        }
    root = pipeline.data_root(config)
    if DATASET == "casme2":
        book = [f"{root}/{config['datasets']['casme2']['workbook']}"]
    elif DATASET == "samm_lv":
        book = sorted(
            glob_wildcards_free(root, config["datasets"]["samm_lv"]["workbook_glob"])
        )
    else:
        sheet = config["datasets"]["sheet"]
        book = [f"{root}/{sheet['videos']}", f"{root}/{sheet['ground_truth']}"]
    return {"workbook": book, "frames": sorted(set(SOURCE.values()))}


def glob_wildcards_free(root, pattern):
    from pathlib import Path

    return [str(p) for p in Path(root).glob(pattern)]


def synthetic_workbook_name():
    if LAYOUT == "casme2":
        return config["datasets"]["casme2"]["workbook"]
    return "SAMM_LongVideos_V3_Release.xlsx"


def synthetic_outputs():
    """One generated folder per subject (CAS layout) or per video (SAMM layout)."""
    if LAYOUT == "casme2":
        return [f"{SYN_DATA}/rawpic/{s}" for s in SUBJECTS]
    return sorted(SOURCE.values())


def final_outputs():
    """The F1 logs and the report's material: F1 tables, score curves per fold, losses."""
    figures = f"{RESULTS}/report"
    tables = ("f1_pooled.html", "f1_per_config.html", "f1_per_fold.html", "f1.png")
    return [
        f"{RESULTS}/evaluation/metrics.json",
        *[f"{figures}/{name}" for name in tables],
        *[f"{figures}/scores/{c}/{s}.png" for c in CONFIGS for s in SUBJECTS],
        *[f"{figures}/losses/{c}.png" for c in CONFIGS],
    ]


def flow_params():
    """Only the active flow method's settings, so tuning another method reruns nothing (the
    device only where the method can use a GPU)."""
    from tsmsnet.preprocess.flow import GPU_METHODS, params_section

    flow = config["preprocess"]["flow"]
    out = {"method": flow["method"], "params": flow[params_section(flow["method"])]}
    if flow["method"] in GPU_METHODS:
        out["device"] = config["device"]
    return out


def training_stage1(wildcards):
    """Stage-1 stores of the fold's training videos: the held-out subject never appears."""
    return [stage1_store(v, wildcards.config) for v in training_videos(wildcards)]


def training_stage2(wildcards):
    return [stage2_store(v) for v in training_videos(wildcards)]


def training_videos(wildcards):
    return list(TRAINING_VIDEOS[wildcards.subject])


def test_videos(wildcards):
    return list(VIDEOS_OF[wildcards.subject])


def test_stage1(wildcards):
    return [stage1_store(v, wildcards.config) for v in test_videos(wildcards)]


def test_stage2(wildcards):
    return [stage2_store(v) for v in test_videos(wildcards)]


def spot_settings(wildcards):
    return config["configs"][wildcards.config]


def fold_outputs(kind):
    return [
        f"{RESULTS}/spotting/{name}/{subject}/{kind}.csv"
        for name in CONFIGS
        for subject in SUBJECTS
    ]
