import pytest
from torch import nn

from inception.layers import BasicConv2d
from inception.summary import summary


def test_summary_has_the_books_columns_and_totals():
    model = nn.Sequential(BasicConv2d(3, 8, 3, padding=1), nn.MaxPool2d(2))
    table = summary(model, (1, 3, 16, 16))
    text = str(table)
    for column in ("Input Shape", "Output Shape", "Kernel Shape", "Param #", "Mult-Adds"):
        assert column in text
    assert "Units." not in text  # torchinfo 1.8 prints enum names; the helper cleans them
    assert table.total_params == 3 * 8 * 9 + 16
    assert text == str(summary(model, (1, 3, 16, 16)))  # deterministic


def test_summary_rejects_bad_input():
    with pytest.raises(ValueError, match="expected a torch.nn.Module"):
        summary("not a model", (1, 3, 8, 8))
    with pytest.raises(ValueError, match='mode must be "eval" or "train"'):
        summary(nn.ReLU(), (1, 3), mode="test")
