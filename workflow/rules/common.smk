# No rules here: config validation, the video table and folds, every DAG-time constant, the
# path patterns, wildcard constraints and input functions. Input functions run once per job
# (about a thousand at full scale): they look up dicts built once here, never the pandas table.
import os
import re

from tsmsnet import pipeline
from tsmsnet import validate as checks
from tsmsnet.config import (
    cpu_kernel_pins,
    dataset_configs,
    job_environment,
    spot_config,
    synthetic_preset,
    training,
)
from tsmsnet.datasets import (
    annotation_files,
    fills_frame_gaps,
    has_emotions,
    target_settings,
)
from tsmsnet.evaluation import submission
from tsmsnet.evaluation.strs import StrOptions
from tsmsnet.model_source import methods, models_line, recognition_line
from tsmsnet.preprocess.flow import flow_settings, uses_cuda
from tsmsnet.preprocess.record import preprocess_record
from tsmsnet.recognition.plan import check_method, micro_config, training_settings
from tsmsnet.steps.upstream import import_sections
from tsmsnet.synthetic.plan import subject_folder_pattern
from tsmsnet.upstream import upstream_config

# Bad config or input stops here, before any job: one line naming the key, file, sheet, row
# or frame and the fix, exit status 1, nothing written (see tsmsnet.validate). Jobs that a
# cluster executor re-parses this file for skip re-reading the dataset. The check returns what
# it built: the video table (subject, video, source) and, for models=upstream, the upstream
# folds that spot each (config, subject); the DAG uses those. The frames fingerprints (a stat
# per frame, ~1M for SAMM-LV) start in a second process before the dataset is read, and are
# collected when Snakemake first asks for a params.
with checks.exit_on_error():
    CHECKED = checks.check_workflow(
        config,
        f"{workflow.basedir}/workflow/schemas/config.schema.yaml",
        read_data=False,
    )
    VIDEOS = CHECKED.videos
    FINGERPRINT = pipeline.frames_fingerprints(
        config, VIDEOS["source"], background=workflow.is_main_process
    )
    if workflow.is_main_process:
        CHECKED = checks.finish_checks(config, CHECKED)
# Jobs inherit the environment: glibc malloc settings from config.yaml `malloc`.
job_environment(config, os.environ)

RESULTS = pipeline.results_dir(config)
DATASET = config["dataset"]
READER = pipeline.reader_name(config)
FOLDS = pipeline.loso_folds(VIDEOS)
SUBJECTS = list(FOLDS)
CONFIGS = dataset_configs(config)
SPOT = {name: spot_config(config, name).record() for name in CONFIGS}
# (config, held-out subject) of every fold job, in the order fold_outputs lists their files.
FOLD_LABELS = [(name, subject) for name in CONFIGS for subject in SUBJECTS]
SOURCE = dict(zip(VIDEOS["video"], VIDEOS["source"]))
SUBJECT_OF = dict(zip(VIDEOS["video"], VIDEOS["subject"]))
SYNTHETIC = DATASET == "synthetic"
PRESET = synthetic_preset(config) if SYNTHETIC else None
LAYOUT = PRESET["layout"] if SYNTHETIC else None
# Synthetic layouts that group a subject's videos in one folder: its path, {subject} open.
SUBJECT_FOLDER = subject_folder_pattern(LAYOUT) if SYNTHETIC else None
SUBJECT_INDEX = {s: i for i, s in enumerate(SUBJECTS)}
READERS_ROOT = (
    pipeline.synthetic_data_root(config) if SYNTHETIC else pipeline.data_root(config)
)
# The files the reader reads its annotations from (for synthetic: where the generator puts
# them): the annotations rule's inputs, the synthetic_workbook rule's output.
ANNOTATION_FILES = [
    str(p)
    for p in annotation_files(
        READER, READERS_ROOT, config["datasets"][READER], present=not SYNTHETIC
    )
]
# Params of the jobs that read frames (landmarks, faces) where the dataset fills missing frame
# numbers (CAS(ME)^3); absent elsewhere, so the jobs of other datasets keep the params they
# ran with and stay fresh.
GAP_PARAMS = (
    {"fill_gaps": True} if fills_frame_gaps(READER, config["datasets"][READER]) else {}
)
# 1 where the flow jobs compute on a CUDA GPU (flow method auto or tvl1_torch, a GPU here
# under `device`): they then take the gpu resource like training. Decided where the DAG is
# built, as the jobs decide their method where they run: a head node without a GPU sends
# them to CPU nodes, where auto is OpenCV's TV-L1.
FLOW_GPUS = int(uses_cuda(config["preprocess"]["flow"]["method"], config["device"]))
FLOW = flow_settings(config["preprocess"]["flow"], config["device"])
# What every model's inputs went through; both training rules record this one.
PREPROCESS = preprocess_record(config)
# Training-free ROI-flow spotter: its flow (OpenCV, the method's parameters from
# preprocess.flow), the gaps every config's search needs, and only the geometry numbers
# (preprocess.features) the curves use, so tuning the stores' ROI size reruns no curve.
ROI = config["roi_flow"]
ROI_FLOW = flow_settings({**config["preprocess"]["flow"], "method": ROI["flow"]})
ROI_GAPS = sorted({g for c in CONFIGS for g in ROI["search"][SPOT[c]["type"]]["gap_s"]})
ROI_GEOMETRY = {
    k: config["preprocess"]["features"][k]
    for k in ("nose_landmark", "nose_patch", "eye_margin", "roi_margin")
}
TRAIN = {net: training(config, net) for net in ("apex_net", "interval_net")}
# The reader's choices behind the training intervals; both training rules record them.
TARGETS = target_settings(READER, config["datasets"][READER])
# Which models spot the folds (config `models`): trained here, or upstream's published
# weights, imported once (by import_upstream). UPSTREAM: the checkout's folds by config and
# held-out subject; SPOTTED_BY: (config, subject) -> the upstream folds that spot it (its own,
# or all of the config's: tsmsnet.upstream.fold_models, checked above).
UPSTREAM = CHECKED.upstream
SPOTTED_BY = CHECKED.spotted_by
# Which models made the numbers: a line of the evaluation logs and report tables.
MODELS_LINE = models_line(config, UPSTREAM)
# The evaluated methods, one predictions file per fold each (step2_refined where it refines).
METHODS = methods(config)
# The refinement's search grid (config `refine` less its switch): a change reruns refine only.
REFINE_GRID = {k: v for k, v in config["refine"].items() if k != "enabled"}
# Environment the training and spotting steps pin before torch starts (config `cpu_kernels`).
CPU_KERNELS = cpu_kernel_pins(config)
# The reader's section less its emotion mapping (the annotations rule's params): annotations.csv
# keeps the raw labels, the emotions rule maps them, so a new mapping reruns only what reads
# emotions.csv (recognition, STR scores, report). A sheet has no mapping.
READER_CFG = {k: v for k, v in config["datasets"][READER].items() if k != "emotions"}
EMOTION_MAP = config["datasets"][READER].get("emotions", {})
# Recognition (recognize.smk): the micro config whose stage-1 stores it reads and whose
# intervals (method recognition.method) it names; only where the annotations carry emotions.
RECOGNITION_CONFIG = micro_config(CONFIGS, SPOT)
RECOGNISES = RECOGNITION_CONFIG is not None and has_emotions(READER, ANNOTATION_FILES)
if RECOGNISES:
    with checks.exit_on_error():
        RECOGNITION_METHOD = check_method(config["recognition"]["method"], METHODS)
RECOGNITION_CLASSES = list(StrOptions.from_config(config).scored_classes)
RECOGNITION_TRAIN = training_settings(config["recognition"])
# Order among runnable jobs, higher first: the long jobs that gate the most others start
# first, so the short ones (spotting, plots) fill the cores at the end rather than one
# training job running alone (docs/benchmarks.md, "Whole default pipeline").
PRIORITY = {
    "stage1_features": 4,
    "stage2_features": 3,
    "train_apex": 2,
    "train_interval": 1,
}

# Path patterns: the rules' outputs and the input functions below both use these.
LANDMARKS = f"{RESULTS}/landmarks/{{video}}.json"
FACES_STORE = f"{RESULTS}/faces/{{video}}.zarr"
STAGE1_STORE = f"{RESULTS}/features/stage1/K{{K}}/{{video}}.zarr"
STAGE2_STORE = f"{RESULTS}/features/stage2/{{video}}.zarr"
ROI_CURVES = f"{RESULTS}/features/roi_curves/{{video}}.npz"
ANNOTATIONS = f"{RESULTS}/annotations.csv"
VIDEO_TABLE = f"{RESULTS}/videos.csv"
MODELS = f"{RESULTS}/models/{{config}}/{{subject}}"
UPSTREAM_MODELS = f"{RESULTS}/upstream_models"
SPOTTING = f"{RESULTS}/spotting/{{config}}/{{subject}}"
GENERATED_TRUTH = f"{RESULTS}/generated/{{subject}}.csv"
EMOTIONS = f"{RESULTS}/emotions.csv"
RECOGNITION_MODELS = f"{RESULTS}/models/recognition/{{subject}}"
RECOGNITION = f"{RESULTS}/recognition/{{subject}}.csv"
EVALUATION = f"{RESULTS}/evaluation"
# The challenge's submission files (str.smk; names shared with `tsmsnet spot`).
SUBMISSION = f"{RESULTS}/{submission.FOLDER}"
SPOTTING_SUBMISSION = f"{SUBMISSION}/{submission.SPOTTING_FILE}"
STR_SUBMISSION = f"{SUBMISSION}/{submission.STR_FILE}"
# Which models spotted and named the STR intervals (a field of str.json).
STR_MODELS = {"spotting": MODELS_LINE}
if RECOGNISES:
    STR_MODELS["recognition"] = recognition_line(
        config, RECOGNITION_CONFIG, RECOGNITION_METHOD
    )


def _alternation(names):
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


wildcard_constraints:
    video=_alternation(VIDEOS["video"]),
    subject=_alternation(SUBJECTS),
    config=_alternation(CONFIGS),


def synthetic_frames_pattern():
    """What one synthetic_subject job writes: its subject folder (CAS(ME)^2, CAS(ME)^3
    layouts) or each of its video folders (SAMM layout)."""
    if SUBJECT_FOLDER:
        return [f"{READERS_ROOT}/{SUBJECT_FOLDER}"]
    return [
        f"{READERS_ROOT}/{{subject}}_{n}"
        for n in range(1, PRESET["videos_per_subject"] + 1)
    ]


def readers_root(wildcards):
    """The folder the readers (and the synthetic generator) work in."""
    return READERS_ROOT


def frames_input(wildcards):
    """What a per-video job waits for: the generating job's output, or the frames themselves."""
    if SYNTHETIC and SUBJECT_FOLDER:
        folder = SUBJECT_FOLDER.format(subject=SUBJECT_OF[wildcards.video])
        return f"{READERS_ROOT}/{folder}"
    return SOURCE[wildcards.video]


def video_source(wildcards):
    return SOURCE[wildcards.video]


def frames_fingerprint(wildcards):
    return FINGERPRINT(SOURCE[wildcards.video])


def stage1_store(video, name):
    return STAGE1_STORE.format(K=SPOT[name]["K"], video=video)


def stage2_store(video):
    return STAGE2_STORE.format(video=video)


def annotation_inputs():
    """Annotation files and frames folders the readers read."""
    if SYNTHETIC:
        frames = [
            p.format(subject=s) for s in SUBJECTS for p in synthetic_frames_pattern()
        ]
    else:
        frames = sorted(set(SOURCE.values()))
    return {"workbook": ANNOTATION_FILES, "frames": sorted(set(frames))}


def final_outputs():
    """The F1 logs and the report's material: F1 tables, score curves per fold, losses; the STR
    outputs and submission files."""
    figures = f"{RESULTS}/report"
    tables = ("f1_pooled.html", "f1_per_config.html", "f1_per_fold.html", "f1.png")
    return [
        f"{EVALUATION}/metrics.json",
        *[f"{figures}/{name}" for name in tables],
        *[f"{figures}/scores/{c}/{s}.png" for c in CONFIGS for s in SUBJECTS],
        # Training losses: only where this run trains (not with upstream's weights).
        *([] if UPSTREAM else [f"{figures}/losses/{c}.png" for c in CONFIGS]),
        # Spot-then-recognise: str.json and its report items always (without emotion labels
        # they say why there are no scores), the submission files (STR's where it recognises).
        f"{EVALUATION}/str.json",
        f"{figures}/str.html",
        f"{figures}/str_confusion.png",
        SPOTTING_SUBMISSION,
        *([STR_SUBMISSION] if RECOGNISES else []),
    ]


def training_videos(wildcards):
    """The fold's training videos (pipeline.loso_folds): the held-out subject never appears."""
    return list(FOLDS[wildcards.subject].train)


def held_out(wildcards):
    return wildcards.subject


def config_name(wildcards):
    return wildcards.config


def test_videos(wildcards):
    return list(FOLDS[wildcards.subject].test)


def training_stage1(wildcards):
    return [stage1_store(v, wildcards.config) for v in training_videos(wildcards)]


def training_stage2(wildcards):
    return [stage2_store(v) for v in training_videos(wildcards)]


def test_stage1(wildcards):
    return [stage1_store(v, wildcards.config) for v in test_videos(wildcards)]


def test_stage2(wildcards):
    return [stage2_store(v) for v in test_videos(wildcards)]


def roi_curves(video):
    return ROI_CURVES.format(video=video)


def training_roi_curves(wildcards):
    return [roi_curves(v) for v in training_videos(wildcards)]


def test_roi_curves(wildcards):
    return [roi_curves(v) for v in test_videos(wildcards)]


def roi_flow_settings(wildcards):
    """The fold's type's duration limits and search space (another type's edits rerun nothing)."""
    kind = SPOT[wildcards.config]["type"]
    return {
        "durations_s": {kind: ROI["durations_s"][kind]},
        "search": {kind: ROI["search"][kind]},
    }


def spot_models(stage):
    """Input function of the spot rule: the `stage` (apex, interval) checkpoints that spot the
    fold's held-out subject. Its own fold's (models=trained), or the upstream folds that
    SPOTTED_BY names (models=upstream: its own, or all of the config's as an ensemble).
    """

    def models(wildcards):
        if UPSTREAM is None:
            folder = MODELS.format(config=wildcards.config, subject=wildcards.subject)
            return [f"{folder}/{stage}.pt"]
        folds = SPOTTED_BY[(wildcards.config, wildcards.subject)]
        return [f"{UPSTREAM_MODELS}/{wildcards.config}/{s}/{stage}.pt" for s in folds]

    return models


def upstream_outputs():
    """What import_upstream writes: every fold of the dataset's configs (as importing it does:
    tsmsnet.steps.upstream.import_checkout)."""
    return [
        f"{UPSTREAM_MODELS}/{c}/{s}/{name}"
        for c in CONFIGS
        for s in UPSTREAM.subjects(c)
        for name in (
            "apex.pt",
            "interval.pt",
            "apex_config.yaml",
            "interval_config.yaml",
        )
    ]


def upstream_sections():
    """What the import reads of the config, per spotting config: a change re-imports."""
    return {
        c: import_sections(config, upstream_config(c), "config.yaml") for c in CONFIGS
    }


def spot_settings(wildcards):
    """The fold's spotting config as plain data (tsmsnet.config.SpotConfig.record)."""
    return SPOT[wildcards.config]


def method_outputs(wildcards):
    """Every method's predictions files, by method name (METHODS), for the evaluate rule."""
    return {method: fold_outputs(method) for method in METHODS}


def fold_outputs(kind):
    """One file per fold job, in FOLD_LABELS order."""
    return [
        f"{SPOTTING.format(config=name, subject=subject)}/{kind}.csv"
        for name, subject in FOLD_LABELS
    ]


def recognition_outputs():
    """Each held-out subject's named micro intervals, where the run recognises (RECOGNISES);
    none otherwise."""
    return [RECOGNITION.format(subject=s) for s in SUBJECTS] if RECOGNISES else []


def recognition_training_stores(wildcards):
    """The fold's training videos' stage-1 stores of the micro config (the held-out subject's
    never)."""
    return [stage1_store(v, RECOGNITION_CONFIG) for v in training_videos(wildcards)]


def recognition_test_stores(wildcards):
    return [stage1_store(v, RECOGNITION_CONFIG) for v in test_videos(wildcards)]


def recognition_predictions(wildcards):
    """The micro config's predictions of the held-out subject by recognition.method."""
    folder = SPOTTING.format(config=RECOGNITION_CONFIG, subject=wildcards.subject)
    return f"{folder}/{RECOGNITION_METHOD}.csv"
