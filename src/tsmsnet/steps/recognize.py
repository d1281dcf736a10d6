"""Recognition steps per fold: train the held-out subject's recognition network, then name
the class of each micro-expression spotted in that subject (spot-then-recognise)."""

from __future__ import annotations

import pandas as pd

from tsmsnet.atomic import atomic_csv
from tsmsnet.runlog import Log

# What the recognize rule writes per held-out subject (results/D/recognition/<subject>.csv):
# the micro intervals the chosen method spotted, each with its class and that class's mean
# probability; `score` is the spotting score.
RECOGNITION_COLUMNS = [
    "subject",
    "video",
    "onset",
    "offset",
    "type",
    "score",
    "emotion",
    "emotion_score",
]


def train_recognizer_fold(
    emotions_csv: str,
    stores: list[str],
    videos: list[str],
    held_out: str,
    classes: list[str],
    spot_config: str,
    K: int,
    settings: dict,
    features: dict,
    preprocess: dict,
    seed: int,
    device: str,
    cpu_kernels: dict,
    model_out: str,
    losses_out: str,
    used_out: str,
    log: Log,
) -> dict:
    """Train one fold's recognition network on its training videos' stage-1 stores (step K of
    the micro config `spot_config`) and labelled expressions of `settings["types"]`; write the
    checkpoint (its record: held-out subject, training videos, classes, K, settings, seed,
    preprocessing, CPU kernels), the per-epoch losses and the record as YAML."""
    from tsmsnet.datasets.table import read_annotations
    from tsmsnet.recognition.model import RecognitionNetConfig
    from tsmsnet.recognition.train import train_recognizer, training_set
    from tsmsnet.steps.train import write_fold
    from tsmsnet.training.device import pin_cpu_kernels

    kernels = pin_cpu_kernels(cpu_kernels, log)
    truth = read_annotations(emotions_csv)  # emotions.csv: the annotation rows + class
    log(f"recognition fold held out={held_out}, {len(videos)} training videos, K={K}")
    data = training_set(truth, stores, videos, held_out, classes, settings["types"], K)
    net_cfg = RecognitionNetConfig.from_sections(settings, features, tuple(classes))
    model, losses = train_recognizer(data, net_cfg, settings, seed, device, log)
    record = {
        "held_out": held_out,
        "videos": list(videos),
        "classes": list(classes),
        "expressions": {c: int(n) for c, n in zip(classes, data.expressions, strict=True)},
        "spot_config": spot_config,
        "K": int(K),
        "train": dict(settings),
        "seed": int(seed),
        "preprocess": preprocess,
        "cpu_kernels": kernels,
    }
    return write_fold(model_out, losses_out, used_out, model, net_cfg, losses, record)


def recognize_fold(
    model: str,
    predictions_csv: str,
    stores: list[str],
    videos: list[str],
    held_out: str,
    device: str,
    cpu_kernels: dict,
    out: str,
    log: Log,
) -> pd.DataFrame:
    """Name the class of every micro interval of `predictions_csv` (one fold's spotting output,
    the held-out subject's videos) with the fold's own recognition network; write
    RECOGNITION_COLUMNS to `out`."""
    from tsmsnet.recognition.predict import name_classes
    from tsmsnet.steps.spot import check_held_out
    from tsmsnet.training.device import pin_cpu_kernels
    from tsmsnet.training.train import load_checkpoint

    pin_cpu_kernels(cpu_kernels, log)
    _, payload = load_checkpoint(model, "cpu")
    check_held_out([model], [payload], held_out, videos, log)
    predictions = pd.read_csv(predictions_csv, dtype={"video": str})
    micro = predictions[predictions["type"] == "micro"].reset_index(drop=True)
    log(f"{len(micro)} micro interval(s) of {len(predictions)} in {predictions_csv}")
    named = name_classes(model, dict(zip(videos, stores, strict=True)), micro, device, log)
    named.insert(0, "subject", held_out)
    table = named[RECOGNITION_COLUMNS]
    atomic_csv(table, out)
    return table
