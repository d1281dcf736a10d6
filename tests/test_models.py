"""Both networks: exact size, output shapes for every configuration, no NaN on blank input,
stage-1 input scaling and the weight initialisations."""

from dataclasses import asdict, replace

import numpy as np
import pytest
import torch

from tsmsnet.errors import ConfigError
from tsmsnet.models import (
    ApexNet,
    ApexNetConfig,
    IntervalNet,
    IntervalNetConfig,
    minmax_channels,
    scale_inputs,
)

# ApexNet parameters (conv units have no conv bias; each BN adds 2 per channel):
#   u stream   1x1 1->3: 3 + 6                                  =     9
#   v stream   1x1 1->5: 5 + 10; 3x3 5->5: 225 + 10             =   250
#   s stream   1x1 1->8: 8 + 16; 2 x 3x3 8->8: 2 x (576 + 16)   =  1208
#   inception  a: 1x1 16->16 (256 + 32)                         =   288
#              b: 288 + 3x3 16->16 (2304 + 32)                  =  2624
#              c: 288 + 2 x 2336                                =  4960
#   SE         48->3 (144 + 3), 3->48 (144 + 48)                =   339
#   FC         192->256 (49152 + 256), 256->1 (256 + 1)         = 49665
#   total                                                        = 59343
APEX_PARAMS = 59343

# Flattened Conv1d output per configuration (method.md / upstream).
FLAT = {"cas_micro": 128, "cas_macro": 32, "samm_micro": 32, "samm_macro": 416}


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_apex_param_count_and_shape(cfg):
    torch.manual_seed(0)
    net = ApexNet(ApexNetConfig.from_cfg(cfg))
    assert n_params(net) == APEX_PARAMS
    assert net(torch.randn(5, 3, 42, 42)).shape == (5,)


@pytest.mark.parametrize("name", sorted(FLAT))
def test_interval_shapes_for_every_config(cfg, name):
    torch.manual_seed(0)
    net_cfg = IntervalNetConfig.from_cfg(cfg, name)
    assert net_cfg.L == cfg["configs"][name]["L"]
    net = IntervalNet(net_cfg)
    assert net.clip_features == 256
    assert net.flat == FLAT[name]
    assert net.fc1.out_features == cfg["configs"][name]["interval_net"]["fc_hidden"]
    out = net(torch.rand(2, net_cfg.L, 3, 42, 42))
    assert out.shape == (2, 2)


def test_interval_rejects_wrong_clip_count(cfg):
    net = IntervalNet(IntervalNetConfig.from_cfg(cfg, "cas_micro"))
    with pytest.raises(ValueError, match="6 clips"):
        net(torch.rand(1, 5, 3, 42, 42))


def test_interval_too_short_window_is_a_config_error():
    with pytest.raises(ConfigError, match="no time steps"):
        IntervalNet(
            IntervalNetConfig(L=4, stride=2, padding=(0, 0, 0), fc_hidden=8, init="pytorch")
        )


def test_configs_survive_asdict_round_trip(cfg):
    for net_cfg in (ApexNetConfig.from_cfg(cfg), IntervalNetConfig.from_cfg(cfg, "samm_macro")):
        stored = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(net_cfg).items()}
        assert type(net_cfg)(**stored) == net_cfg


@pytest.mark.parametrize("train", [True, False])
def test_all_zero_input_gives_finite_outputs(cfg, train):
    torch.manual_seed(0)
    apex = ApexNet(ApexNetConfig.from_cfg(cfg)).train(train)
    interval = IntervalNet(IntervalNetConfig.from_cfg(cfg, "cas_macro")).train(train)
    clips = minmax_channels(torch.zeros(3, 16, 3, 42, 42))
    assert torch.equal(clips, torch.zeros_like(clips))
    assert torch.isfinite(apex(torch.zeros(3, 3, 42, 42))).all()
    assert torch.isfinite(interval(clips)).all()


def test_minmax_channels_numpy_and_torch_agree():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3, 42, 42)).astype(np.float16)
    x[1, 2] = 7.0  # a constant channel
    x[3] = 0.0  # zero padding
    a = minmax_channels(x)
    b = minmax_channels(torch.from_numpy(x)).numpy()
    assert a.dtype == np.float32 and b.dtype == np.float32
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert not np.isnan(a).any()
    assert (a[1, 2] == 0).all() and (a[3] == 0).all()
    assert a[0].min(axis=(-2, -1)).tolist() == [0, 0, 0]
    np.testing.assert_allclose(a[0].max(axis=(-2, -1)), 1.0)
    np.testing.assert_allclose(minmax_channels(a), a, atol=1e-6)  # idempotent


def _apex(cfg, **change) -> ApexNet:
    """An ApexNet of config.yaml's shape with some net_cfg fields changed, seeded."""
    torch.manual_seed(0)
    return ApexNet(replace(ApexNetConfig.from_cfg(cfg), **change)).eval()


def test_minmax_scales_each_channel_of_each_sample_to_unit_range():
    x = torch.randn(4, 3, 42, 42) * torch.tensor([0.1, 5.0, 300.0]).view(1, 3, 1, 1) - 2.0
    x[2, 1] = 3.5  # a constant channel: upstream's 0/0
    y = scale_inputs(x, "minmax")
    assert torch.isfinite(y).all()
    lo, hi = y.amin(dim=(2, 3)), y.amax(dim=(2, 3))
    expected_hi = torch.ones(4, 3)
    expected_hi[2, 1] = 0.0
    assert torch.equal(lo, torch.zeros(4, 3))
    torch.testing.assert_close(hi, expected_hi)
    assert (y[2, 1] == 0).all()
    i = (1, 2, 7, 9)  # one value against its channel's own min and max
    c = x[1, 2]
    torch.testing.assert_close(y[i], (x[i] - c.min()) / (c.max() - c.min()))
    assert torch.equal(scale_inputs(x, "raw"), x)


def test_unknown_scaling_or_init_is_a_config_error(cfg):
    with pytest.raises(ConfigError, match="input scaling 'unit'"):
        replace(ApexNetConfig.from_cfg(cfg), input_scaling="unit")
    with pytest.raises(ConfigError, match="weight init 'he'"):
        replace(IntervalNetConfig.from_cfg(cfg, "cas_micro"), init="he")


def test_minmax_apex_ignores_a_positive_affine_change_of_one_channel(cfg):
    torch.manual_seed(1)
    x = torch.rand(6, 3, 42, 42)
    y = x.clone()
    y[:, 2] = 40.0 * y[:, 2] + 3.0  # strain in other units, shifted
    minmax = _apex(cfg, input_scaling="minmax")
    torch.testing.assert_close(minmax(y), minmax(x), rtol=1e-5, atol=1e-5)
    raw = _apex(cfg, input_scaling="raw")
    assert (raw(y) - raw(x)).abs().max() > 1e-3


def test_config_yaml_scales_stage1_per_dataset(cfg):
    scaling = {}
    for dataset in ("casme2", "samm_lv", "sheet"):
        cfg["dataset"] = dataset
        scaling[dataset] = ApexNetConfig.from_cfg(cfg).input_scaling
    assert scaling["casme2"] == "minmax" and scaling["samm_lv"] == "raw"  # upstream's
    assert scaling["sheet"] == cfg["datasets"]["sheet"]["stage1_input"]


def _weights(net: torch.nn.Module) -> dict:
    return {k: v.clone() for k, v in net.state_dict().items()}


def _nets(cfg, init: str, seed: int):
    torch.manual_seed(seed)
    apex = ApexNet(replace(ApexNetConfig.from_cfg(cfg), init=init))
    interval = IntervalNet(replace(IntervalNetConfig.from_cfg(cfg, "cas_micro"), init=init))
    return _weights(apex), _weights(interval)


def test_inits_differ_and_each_repeats_from_its_seed(cfg):
    for seed in (0, 5):
        for init in ("pytorch", "xavier"):
            for a, b in zip(_nets(cfg, init, seed), _nets(cfg, init, seed), strict=True):
                assert all(torch.equal(a[k], b[k]) for k in a), (init, seed)
    torch_apex, torch_interval = _nets(cfg, "pytorch", 0)
    xavier_apex, xavier_interval = _nets(cfg, "xavier", 0)
    other_apex, _ = _nets(cfg, "pytorch", 1)
    assert not torch.equal(torch_apex["fc1.weight"], other_apex["fc1.weight"])
    # torch's Linear default is uniform(+-1/sqrt(fan_in)) with a non-zero bias; xavier's linears
    # are N(0, 0.01) with zero bias.
    bound = 1 / np.sqrt(torch_apex["fc1.weight"].shape[1])
    assert torch_apex["fc1.weight"].abs().max() <= bound
    assert torch_apex["fc1.bias"].abs().max() > 0 and (xavier_apex["fc1.bias"] == 0).all()
    assert abs(float(xavier_interval["fc1.weight"].std()) - 0.01) < 0.002
    assert abs(float(torch_interval["fc1.weight"].std()) - 0.01) > 0.005
    for key in torch_apex:
        if key.endswith("weight") and torch_apex[key].dim() > 1:
            assert not torch.equal(torch_apex[key], xavier_apex[key]), key


def test_old_checkpoints_rebuild_as_they_were_trained(cfg, tmp_path):
    """Checkpoints from before input_scaling and init existed load as raw + xavier."""
    from tsmsnet.training.train import LEGACY_NET_CFG, load_checkpoint, save_checkpoint

    for model in (_apex(cfg), IntervalNet(IntervalNetConfig.from_cfg(cfg, "cas_macro"))):
        path = tmp_path / f"{type(model).__name__}.pt"
        save_checkpoint(path, model, model.cfg, [], {})
        payload = torch.load(path, weights_only=True)
        del payload["net_cfg"]["init"]
        payload["net_cfg"].pop("input_scaling", None)
        torch.save(payload, path)
        loaded, _ = load_checkpoint(path, "cpu")
        legacy = LEGACY_NET_CFG[type(model).__name__]
        assert legacy["init"] == "xavier" and legacy.get("input_scaling", "raw") == "raw"
        assert asdict(loaded.cfg) == {**asdict(model.cfg), **legacy}
        for a, b in zip(loaded.state_dict().values(), model.state_dict().values(), strict=True):
            assert torch.equal(a, b)
