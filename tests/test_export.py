"""The widget's network: what the site serves is what the package's code produces, and it computes what
the PyTorch network computes."""

from pathlib import Path

import numpy as np
import pytest
import torch

from inception.export import OUTPUT_NAMES, DigitReader, digit_reader, main, onnx_bytes
from inception.googlenet import GoogLeNet
from inception.speedups import max_difference, onnx_session

ROOT = Path(__file__).resolve().parents[1]
SERVED = ROOT / "book" / "_static" / "widget" / "digit_reader.onnx"


def test_the_site_serves_the_model_the_code_exports(site_model):
    data, _ = site_model
    assert SERVED.is_file(), f"{SERVED} is missing: run python -m inception.export --out {SERVED}"
    assert SERVED.read_bytes() == data, (
        f"{SERVED.relative_to(ROOT)} is not what python -m inception.export writes now: regenerate it with "
        f"`python -m inception.export --out {SERVED.relative_to(ROOT)}` and commit it")
    # the same bytes from any checkout: the exporter's notes on source files and lines are stripped
    assert str(ROOT).encode() not in data and b"stack_trace" not in data


def test_the_exported_network_learned_the_digits(site_model):
    _, trained = site_model
    assert trained.history.test_accuracy[-1] > 0.95, trained.history.test_accuracy


def test_reader_computes_the_networks_probabilities_and_its_branches(site_model):
    _, trained = site_model
    counts = torch.randint(0, 17, (5, 1, 8, 8)).float()
    probabilities, *maps = digit_reader(trained)(counts)
    with torch.no_grad():
        expected = torch.softmax(trained.model.eval()((counts - trained.mean) / trained.std), dim=1)
        branch3 = trained.model.Mixed_5b.branch3  # the unfolded network's branch, from the stem's output
        x = (counts - trained.mean) / trained.std
        for name in trained.model.before_aux[:trained.model.before_aux.index("Mixed_5b")]:
            x = trained.model.get_submodule(name)(x)
        expected_map = branch3(x).mean(dim=1)
    assert probabilities.shape == (5, 10) and [m.shape for m in maps] == [(5, 8, 8)] * 4
    assert max_difference(probabilities, expected) < 1e-5
    assert max_difference(maps[2], expected_map) < 1e-4
    assert torch.allclose(probabilities.sum(1), torch.ones(5))


def test_onnx_runtime_agrees_with_pytorch_within_1e_4(site_model):
    data, trained = site_model
    session = onnx_session(data)
    assert [o.name for o in session.get_outputs()] == list(OUTPUT_NAMES)
    counts = torch.randint(0, 17, (7, 1, 8, 8)).float()  # the batch is dynamic
    outputs = session.run(None, {"counts": counts.numpy()})
    with torch.no_grad():
        expected = digit_reader(trained, fold=False)(counts)
    for got, want in zip(outputs, expected, strict=True):
        assert max_difference(got, want) < 1e-4


def test_cli_writes_and_checks(tmp_path, site_model, monkeypatch, capsys):
    data, trained = site_model
    monkeypatch.setattr("inception.export.digit_reader_onnx", lambda seed=0: (data, trained))
    out = tmp_path / "model.onnx"
    main(["--out", str(out)])
    assert out.read_bytes() == data and "wrote" in capsys.readouterr().out
    main(["--out", str(out), "--check"])
    out.write_bytes(b"something else")
    with pytest.raises(SystemExit):
        main(["--out", str(out), "--check"])


@pytest.mark.parametrize("network, message", [
    (GoogLeNet(num_classes=10, in_channels=1, aux_logits=False, image_size=32), "Inception-v2"),
    ("not a module", "nn.Module"),
])
def test_reader_rejects_other_networks(network, message):
    with pytest.raises(ValueError, match=message):
        DigitReader(network, mean=0.0, std=1.0)


def test_onnx_bytes_rejects_bad_input():
    with pytest.raises(ValueError, match="example input"):
        onnx_bytes(torch.nn.Identity(), np.zeros((1, 1, 8, 8)))
