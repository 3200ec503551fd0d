import torch

from affrepro.models.emi import EMIBranch
from affrepro.models.tcn import TCN

PARAMS = {
    "tcn_channels": 16,
    "tcn_layers": 5,
    "tcn_kernel_size": 3,
    "transformer_layers": 2,
    "transformer_heads": 4,
    "transformer_ff_dim": 32,
    "ffn_hidden": 16,
    "dropout": 0.0,
}


def test_tcn_is_causal():
    torch.manual_seed(0)
    tcn = TCN(8, 16, layers=5, kernel_size=3).eval()
    x = torch.randn(2, 80, 8)
    changed = x.clone()
    changed[:, 41:] = torch.randn(2, 39, 8)
    with torch.no_grad():
        a, b = tcn(x), tcn(changed)
    assert torch.equal(a[:, :41], b[:, :41])
    assert not torch.allclose(a[:, 41:], b[:, 41:])


def test_tcn_receptive_field_is_one_plus_sum_of_dilated_pads():
    torch.manual_seed(0)
    tcn = TCN(4, 8, layers=5, kernel_size=3).eval()
    assert tcn.receptive_field == 1 + 2 * (1 + 2 + 4 + 8 + 16)
    x = torch.randn(1, 100, 4)
    t = 90
    inside, outside = x.clone(), x.clone()
    inside[0, t - 62] += 5.0
    outside[0, t - 63] += 5.0
    with torch.no_grad():
        ref, y_in, y_out = tcn(x)[0, t], tcn(inside)[0, t], tcn(outside)[0, t]
    assert not torch.allclose(ref, y_in)
    assert torch.equal(ref, y_out)


def test_branch_output_ignores_padding():
    torch.manual_seed(0)
    for use_transformer in (True, False):
        model = EMIBranch(10, use_transformer, PARAMS).eval()
        x = torch.randn(1, 12, 10)
        padded = torch.cat([x, torch.randn(1, 8, 10)], dim=1)
        mask = torch.tensor([[True] * 12])
        padded_mask = torch.tensor([[True] * 12 + [False] * 8])
        with torch.no_grad():
            out, out_padded = model(x, mask), model(padded, padded_mask)
        assert out.shape == (1, 6)
        assert torch.allclose(out, out_padded, atol=1e-5)
