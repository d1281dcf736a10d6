"""Upstream's published weights: our nets reproduce them (../shared conformance folds), the
importer turns a checkout into model sets with their records, and refuses what does not fit."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from tests.media import write_mp4
from tests.upstream_helpers import fake_checkout as make_checkout
from tests.upstream_helpers import upstream_state
from tsmsnet.cli import main
from tsmsnet.config import spot_config
from tsmsnet.errors import InputError
from tsmsnet.models import ApexNet, ApexNetConfig, IntervalNet, IntervalNetConfig
from tsmsnet.models.upstream import load_upstream, map_keys
from tsmsnet.preprocess.record import preprocess_record
from tsmsnet.spotting.model_sets import load_model_set
from tsmsnet.steps.upstream import import_checkout, read_state_dict
from tsmsnet.training.train import load_checkpoint, was_trained
from tsmsnet.upstream import CONFIGS, fold_models, parse_name, read_upstream_set

CONFIG_NAMES = ("cas_micro", "cas_macro", "samm_micro", "samm_macro")
STAGE_DIRS = {"stage1": "1st", "stage2": "2nd"}

# What the shared folds' file names say (README of conformance/tsmsnet-upstream): held-out
# subject as our readers name it, upstream's digits, stage-1 epoch and test F1; fps (method.md).
EXPECTED = {
    "cas_micro": ("s15", "15", 21, 0.0, 30.0),
    "cas_macro": ("s15", "15", 47, 0.1667, 30.0),
    "samm_micro": ("006", "006", 0, 0.2143, 200.0),
    "samm_macro": ("006", "006", None, 0.3137, 200.0),
}


def upstream_dir(shared_dir: Path) -> Path:
    return shared_dir / "conformance" / "tsmsnet-upstream"


def shared_file(shared_dir: Path, config: str, stage: str) -> Path:
    (path,) = (upstream_dir(shared_dir) / "weights").glob(f"{config}.{stage}.*.pt")
    return path


def link_checkout(shared_dir: Path, root: Path, configs=CONFIG_NAMES) -> Path:
    """A checkout's weights/ layout in tmp, linking the shared folds under their upstream names
    (nothing of ../shared is copied, nor placed in the repository)."""
    for path in sorted((upstream_dir(shared_dir) / "weights").glob("*.pt")):
        config, stage, name = path.name.split(".", 2)
        if config in configs:
            folder = root / "weights" / STAGE_DIRS[stage] / config.replace("_", "-")
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).symlink_to(path)
    return root


def nets(cfg: dict, config: str) -> tuple[ApexNet, IntervalNet]:
    # The network function only (README: code / 255, no input scaling applied).
    apex_cfg = replace(ApexNetConfig.from_cfg(cfg), input_scaling="raw")
    return ApexNet(apex_cfg), IntervalNet(IntervalNetConfig.from_cfg(cfg, config))


@pytest.mark.parametrize("config", CONFIG_NAMES)
def test_published_weights_load_strictly_and_reproduce_upstream(shared_dir, cfg, config):
    ref = np.load(upstream_dir(shared_dir) / "reference.npz")
    apex, interval = nets(cfg, config)
    for model, stage in ((apex, "stage1"), (interval, "stage2")):
        path = shared_file(shared_dir, config, stage)
        load_upstream(model, read_state_dict(path), path).eval()  # strict=True inside
    x1 = torch.from_numpy(ref[f"{config}_stage1_input_u8"].astype(np.float32) / 255)
    x2 = torch.from_numpy(ref[f"{config}_stage2_input_u8"].astype(np.float32) / 255)
    with torch.no_grad():
        score, logits = apex(x1).numpy(), interval(x2).numpy()
    want_score, want_logits = ref[f"{config}_stage1_score"], ref[f"{config}_stage2_logits"]
    assert score.shape == want_score.shape and logits.shape == want_logits.shape
    np.testing.assert_allclose(score, want_score, rtol=0, atol=1e-4)
    np.testing.assert_allclose(logits, want_logits, rtol=0, atol=1e-4)
    assert np.ptp(want_score) > 1e-3  # the reference is not a constant a broken net could hit


def test_import_writes_one_fold_folder_per_config_with_its_record(
    shared_dir, cfg, tmp_path, capsys
):
    checkout = link_checkout(shared_dir, tmp_path / "MEGC2021")
    out = tmp_path / "models"
    assert main(["import-upstream", str(checkout), "--out", str(out)]) == 0
    assert capsys.readouterr().out.split() == [str(out / c) for c in sorted(CONFIG_NAMES)]
    for config, (held_out, subject, epoch, f1, fps) in EXPECTED.items():
        folder = out / config / held_out
        assert sorted(p.name for p in folder.iterdir()) == [
            "apex.pt", "apex_config.yaml", "interval.pt", "interval_config.yaml",
        ]  # fmt: skip
        s = load_model_set(folder)
        assert s.spot == spot_config(cfg, config) and s.fps == fps
        assert s.preprocess == preprocess_record(cfg)
        for stage, ours in (("stage1", "apex"), ("stage2", "interval")):
            source = shared_file(shared_dir, config, stage)
            model, payload = load_checkpoint(folder / f"{ours}.pt", "cpu")
            mapped = map_keys(read_state_dict(source), type(model).__name__, source)
            assert mapped.keys() == payload["state_dict"].keys()
            assert all(torch.equal(v, payload["state_dict"][k]) for k, v in mapped.items())
            assert payload["losses"] == [] and was_trained(payload)
            record = payload["extra"]
            assert record["held_out"] == held_out and record["fps"] == fps
            assert record["source"] == "upstream" and record["videos"] is None
            assert record["spot"] == spot_config(cfg, config).record()
            up = record["upstream"]
            upstream_name = source.name.split(".", 2)[2]
            dash = config.replace("_", "-")
            assert up["file"] == f"weights/{STAGE_DIRS[stage]}/{dash}/{upstream_name}"
            assert up["config"] == dash and up["subject"] == subject
            assert (up["epoch"], up["test_f1"]) == ((epoch, f1) if ours == "apex" else (None, None))
            assert "F1" in up["selection"] and "held-out" in up["selection"]
            assert up["input_scaling"] == ("minmax" if config.startswith("cas") else "raw")
            assert yaml.safe_load((folder / f"{ours}_config.yaml").read_text()) == record


def test_spot_runs_an_mp4_with_imported_cas_ensembles(
    shared_dir, tmp_path, mini_frames, dis_config
):
    checkout = link_checkout(shared_dir, tmp_path / "MEGC2021", ("cas_micro", "cas_macro"))
    models = tmp_path / "models"
    assert (
        main(["import-upstream", str(checkout), "--out", str(models), "--config", str(dis_config)])
        == 0
    )
    # As a user would: a video file, here made from a synthetic CAS-layout video at 30 fps.
    video = tmp_path / "clip.mp4"
    n = write_mp4(mini_frames, video, 30.0)
    out = tmp_path / "spotted"
    args = ["spot", str(video), "--out", str(out), "--device", "cpu"]
    assert (
        main([*args, "--models", str(models / "cas_micro"), "--models", str(models / "cas_macro")])
        == 0
    )
    intervals = pd.read_csv(out / "intervals.csv")
    assert list(intervals.columns) == ["video", "type", "onset", "offset", "score"]
    assert set(intervals["type"]) <= {"micro", "macro"}
    assert (intervals["onset"] <= intervals["offset"]).all()
    scores = pd.read_csv(out / "scores.csv")
    assert scores.groupby("config").size().to_dict() == {"cas_micro": n - 12, "cas_macro": n - 31}
    assert np.isfinite(scores["score"]).all() and scores["score"].std() > 0


@pytest.mark.parametrize(
    ("folder", "stage", "name", "want"),
    [
        ("cas-micro", "apex", "net_min_loss_1521_0.pt", ("15", "s15", 21, 0.0)),
        ("cas-micro", "apex", "net_min_loss_32_3_0.2667.pt", ("32", "s32", 3, 0.2667)),
        ("cas-macro", "apex", "net_min_loss_200_0.6667.pt", ("20", "s20", 0, 0.6667)),
        ("samm-micro", "apex", "net_min_loss_006_0_0.2143.pt", ("006", "006", 0, 0.2143)),
        ("samm-macro", "apex", "net_min_loss_006_0.3137.pt", ("006", "006", None, 0.3137)),
        ("samm-micro", "apex", "net_min_loss_016_22_0.80.pt", ("016", "016", 22, 0.8)),
        ("cas-macro", "interval", "net_min_loss_15.pt", ("15", "s15", None, None)),
        ("samm-macro", "interval", "net_min_loss_006.pt", ("006", "006", None, None)),
    ],
)
def test_upstream_file_names(folder, stage, name, want):
    f = parse_name(Path(name), CONFIGS[folder], stage)
    assert (f.subject, f.held_out, f.epoch, f.test_f1) == want


@pytest.mark.parametrize(
    ("folder", "stage", "name"),
    [
        ("cas-micro", "interval", "net_min_loss_006.pt"),  # a SAMM subject in a CAS folder
        ("samm-micro", "interval", "net_min_loss_15.pt"),
        ("cas-micro", "apex", "net_min_loss_15.pt"),  # a stage-2 name in stage 1
        ("cas-micro", "apex", "model.pt"),
    ],
)
def test_unreadable_file_names_are_errors_naming_the_file(folder, stage, name):
    with pytest.raises(InputError, match=rf"{name}: not an upstream weights file name"):
        parse_name(Path(name), CONFIGS[folder], stage)


@pytest.fixture
def fake_checkout(cfg, tmp_path) -> Path:
    """cas-micro folds of subjects 15 and 16 made of random nets of ours, in upstream's layout."""
    root = tmp_path / "checkout"
    for i, (s1, s2) in enumerate(
        [
            ("net_min_loss_1521_0.pt", "net_min_loss_15.pt"),
            ("net_min_loss_16_3_0.5.pt", "net_min_loss_16.pt"),
        ]
    ):
        torch.manual_seed(i)
        apex, interval = nets(cfg, "cas_micro")
        for stage, model, name in (("1st", apex, s1), ("2nd", interval, s2)):
            folder = root / "weights" / stage / "cas-micro"
            folder.mkdir(parents=True, exist_ok=True)
            torch.save(upstream_state(model), folder / name)
    return root


def import_fails(checkout: Path, out: Path, capsys) -> str:
    assert main(["import-upstream", str(checkout), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and not out.exists()  # one line, nothing written
    return err[0]


def test_a_fitting_fake_checkout_imports(fake_checkout, tmp_path):
    assert main(["import-upstream", str(fake_checkout), "--out", str(tmp_path / "m")]) == 0
    assert load_model_set(tmp_path / "m" / "cas_micro").folds == (
        tmp_path / "m" / "cas_micro" / "s15",
        tmp_path / "m" / "cas_micro" / "s16",
    )


def test_a_folder_that_is_not_a_checkout(tmp_path, capsys):
    (tmp_path / "clone" / "weights").mkdir(parents=True)
    line = import_fails(tmp_path / "clone", tmp_path / "out", capsys)
    assert "is not a checkout of upstream (xly135846/MEGC2021)" in line and "weights/1st" in line


def test_an_unknown_config_folder(fake_checkout, tmp_path, capsys):
    (fake_checkout / "weights" / "1st" / "casme3-micro").mkdir()
    line = import_fails(fake_checkout, tmp_path / "out", capsys)
    assert "casme3-micro: unknown upstream config folder" in line


def test_a_fold_with_one_stage(fake_checkout, tmp_path, capsys):
    (fake_checkout / "weights" / "2nd" / "cas-micro" / "net_min_loss_16.pt").unlink()
    line = import_fails(fake_checkout, tmp_path / "out", capsys)
    assert "net_min_loss_16_3_0.5.pt has no partner of the other stage" in line
    assert "weights/2nd/cas-micro holds no file of subject 16" in line


def test_a_file_of_the_other_stage(fake_checkout, tmp_path, capsys):
    stage1 = fake_checkout / "weights" / "1st" / "cas-micro" / "net_min_loss_16_3_0.5.pt"
    stage2 = fake_checkout / "weights" / "2nd" / "cas-micro" / "net_min_loss_16.pt"
    swap = tmp_path / "swap.pt"
    stage1.replace(swap)
    stage2.replace(stage1)
    swap.replace(stage2)
    line = import_fails(fake_checkout, tmp_path / "out", capsys)
    assert f"{stage1}: key 'branch1.0.seq.0.weight' is not a layer" in line


def test_a_file_whose_shapes_do_not_fit(fake_checkout, cfg, tmp_path, capsys):
    samm_macro = IntervalNet(IntervalNetConfig.from_cfg(cfg, "samm_macro"))  # fc1 416 -> 256
    path = fake_checkout / "weights" / "2nd" / "cas-micro" / "net_min_loss_16.pt"
    torch.save(upstream_state(samm_macro), path)
    line = import_fails(fake_checkout, tmp_path / "out", capsys)
    assert f"{path} does not fit our IntervalNet" in line and "size mismatch" in line


def test_a_file_that_needs_pickled_code_is_refused(fake_checkout, tmp_path, capsys):
    path = fake_checkout / "weights" / "2nd" / "cas-micro" / "net_min_loss_16.pt"
    torch.save({"fc1.weight": Path("/")}, path)  # loading it would have to import pathlib
    line = import_fails(fake_checkout, tmp_path / "out", capsys)
    assert f"{path} is not a plain PyTorch state dict" in line


def test_a_missing_config_file(fake_checkout, tmp_path, capsys):
    args = ["import-upstream", str(fake_checkout), "--out", str(tmp_path / "o")]
    assert main([*args, "--config", str(tmp_path / "none.yaml")]) == 2
    assert "none.yaml not found" in capsys.readouterr().err


# ---- which upstream folds spot a subject (the workflow's models=upstream) ------------------


def test_a_subject_with_its_own_fold_is_spotted_by_it():
    assert fold_models("cas_micro", "s15", ["s15", "s16"], holds_type=True) == ["s15"]
    assert fold_models("cas_micro", "s15", ["s15", "s16"], holds_type=False) == ["s15"]


def test_a_subject_without_the_type_is_spotted_by_every_fold():
    # Upstream trained each fold on the subjects holding the type only: none saw s17.
    assert fold_models("cas_micro", "s17", ["s16", "s15"], holds_type=False) == ["s15", "s16"]
    assert fold_models("cas_micro", "s17", ["s15", "s16"], holds_type=None) == ["s15", "s16"]


def test_a_subject_with_the_type_but_no_fold_is_leakage():
    with pytest.raises(InputError) as err:
        fold_models("cas_micro", "s17", ["s15", "s16"], holds_type=True)
    message = str(err.value)
    assert message.startswith("subject s17 holds ground truth of cas_micro's type")
    assert "(folds: s15, s16): every fold trained on it" in message


def test_a_config_without_folds_cannot_be_spotted():
    with pytest.raises(InputError, match="upstream's weights have no fold of cas_macro"):
        fold_models("cas_macro", "s15", [], holds_type=False)


def test_a_checkout_is_read_by_file_names_per_config(cfg, tmp_path):
    root = make_checkout(
        tmp_path / "MEGC2021", cfg, {"cas_micro": ["s16", "s15"], "samm_macro": ["007"]}
    )
    (root / "weights" / "1st" / "cas-macro").mkdir()  # an empty config folder: no folds
    published = read_upstream_set(root)
    assert published.checkout == root and published.commit is None  # not a git clone
    assert published.subjects("cas_micro") == ["s15", "s16"]
    assert published.subjects("samm_macro") == ["007"] and published.subjects("cas_macro") == []
    assert [p.relative_to(root).as_posix() for p in published.files(["cas_micro"])] == [
        "weights/1st/cas-micro/net_min_loss_153_0.5.pt",
        "weights/2nd/cas-micro/net_min_loss_15.pt",
        "weights/1st/cas-micro/net_min_loss_163_0.5.pt",
        "weights/2nd/cas-micro/net_min_loss_16.pt",
    ]


def test_import_of_some_configs_writes_only_theirs(cfg, tmp_path):
    root = make_checkout(tmp_path / "MEGC2021", cfg, {"cas_micro": ["s15"], "cas_macro": ["s16"]})
    out = tmp_path / "models"
    written = import_checkout(root, out, cfg, "config.yaml", print, configs=["cas_macro"])
    assert written == [out / "cas_macro" / "s16"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "cas_macro/s16/apex.pt",
        "cas_macro/s16/apex_config.yaml",
        "cas_macro/s16/interval.pt",
        "cas_macro/s16/interval_config.yaml",
    ]
    with pytest.raises(InputError, match="has no folds of samm_micro"):
        import_checkout(root, tmp_path / "none", cfg, "config.yaml", print, configs=["samm_micro"])
