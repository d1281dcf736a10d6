"""Which models spot the workflow's held-out subjects (config.yaml `models`), and the line the
evaluation logs and report tables carry, so that every number says which models made it."""

from __future__ import annotations

from tsmsnet.config import training
from tsmsnet.upstream import REPOSITORY, UpstreamSet

TRAINED = "trained"  # our leave-one-subject-out training (train_apex, train_interval)
UPSTREAM = "upstream"  # upstream's published weights, imported (import_upstream)


# The evaluated methods: step 2 (the method's final output, metrics.json), step 1 (ablation),
# the classical reference, and step 2 refined where the run refines (`methods`).
BASE_METHODS = ("step2", "step1", "classical", "roi_flow")
REFINED = "step2_refined"


def refines(cfg: dict) -> bool:
    """Whether step 2's intervals are refined (config `refine.enabled`); never with upstream's
    models, whose run reproduces upstream's method."""
    return bool(cfg["refine"]["enabled"]) and cfg["models"] == TRAINED


def methods(cfg: dict) -> list[str]:
    """The methods a run writes per fold and evaluates, step 2 first."""
    return [*BASE_METHODS, *([REFINED] if refines(cfg) else [])]


def models_line(cfg: dict, upstream: UpstreamSet | None = None) -> str:
    """One sentence on the models behind a run's numbers (upstream: the checkout's folds, as
    tsmsnet.validate.check_models returned them)."""
    if cfg["models"] == UPSTREAM:
        if upstream is None:
            raise ValueError("models=upstream needs the checkout's folds")
        commit = upstream.commit or "unknown (the folder is not a git clone)"
        return (
            f"upstream's published weights ({REPOSITORY} commit {commit}): each fold's epoch was "
            "picked on its held-out subject's F1, so its scores there are optimistic; a subject "
            "without a fold of its own is spotted by the ensemble of all folds, none of which "
            "trained on it"
        )
    apex, interval = training(cfg, "apex_net"), training(cfg, "interval_net")
    return (
        f"our LOSO retraining (fixed epochs: {apex['epochs']} stage 1, {interval['epochs']} "
        f"stage 2; seed {cfg['seed']})"
    )


def recognition_line(cfg: dict, spot_config: str, method: str) -> str:
    """One sentence on the networks that named the STR intervals' classes (str.json)."""
    return (
        f"our LOSO recognition networks (fixed epochs: {cfg['recognition']['epochs']}; seed "
        f"{cfg['seed']}) naming the {method} intervals of {spot_config}"
    )
