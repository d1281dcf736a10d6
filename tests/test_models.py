"""Both networks: exact size, output shapes for every configuration, no NaN on blank input."""

from dataclasses import asdict

import numpy as np
import pytest
import torch

from tsmsnet.errors import ConfigError
from tsmsnet.models import (
    ApexNet,
    ApexNetConfig,
    IntervalNet,
    IntervalNetConfig,
    normalise_clips,
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
        IntervalNet(IntervalNetConfig(L=4, stride=2, padding=(0, 0, 0), fc_hidden=8))


def test_configs_survive_asdict_round_trip(cfg):
    for net_cfg in (ApexNetConfig.from_cfg(cfg), IntervalNetConfig.from_cfg(cfg, "samm_macro")):
        stored = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(net_cfg).items()}
        assert type(net_cfg)(**stored) == net_cfg


@pytest.mark.parametrize("train", [True, False])
def test_all_zero_input_gives_finite_outputs(cfg, train):
    torch.manual_seed(0)
    apex = ApexNet(ApexNetConfig.from_cfg(cfg)).train(train)
    interval = IntervalNet(IntervalNetConfig.from_cfg(cfg, "cas_macro")).train(train)
    clips = normalise_clips(torch.zeros(3, 16, 3, 42, 42))
    assert torch.equal(clips, torch.zeros_like(clips))
    assert torch.isfinite(apex(torch.zeros(3, 3, 42, 42))).all()
    assert torch.isfinite(interval(clips)).all()


def test_normalise_clips_numpy_and_torch_agree():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3, 42, 42)).astype(np.float16)
    x[1, 2] = 7.0  # a constant channel
    x[3] = 0.0  # zero padding
    a = normalise_clips(x)
    b = normalise_clips(torch.from_numpy(x)).numpy()
    assert a.dtype == np.float32 and b.dtype == np.float32
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert not np.isnan(a).any()
    assert (a[1, 2] == 0).all() and (a[3] == 0).all()
    assert a[0].min(axis=(-2, -1)).tolist() == [0, 0, 0]
    np.testing.assert_allclose(a[0].max(axis=(-2, -1)), 1.0)
    np.testing.assert_allclose(normalise_clips(a), a, atol=1e-6)  # idempotent
