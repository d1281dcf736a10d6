"""Which models spot the workflow's held-out subjects (config.yaml `models`), and the line the
evaluation logs and report tables carry, so that every number says which models made it."""

from __future__ import annotations

from tsmsnet.config import training
from tsmsnet.upstream import REPOSITORY, UpstreamSet

TRAINED = "trained"  # our leave-one-subject-out training (train_apex, train_interval)
UPSTREAM = "upstream"  # upstream's published weights, imported (import_upstream)


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
