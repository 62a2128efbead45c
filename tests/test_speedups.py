"""Int8 quantization (torchao PT2E) and the measurements of chapter 12 and `python -m inception.bench`."""

import pytest
import torch

from inception.quantize import quantize_int8
from inception.recipes import DIGITS_RECIPES
from inception.speedups import deployments, max_difference, median_seconds, onnx_session, throughput


@pytest.fixture(scope="module")
def digits():
    train, test = DIGITS_RECIPES["inception_v2"].loaders(seed=0)
    return torch.cat([x for x, _ in train])[:128], torch.cat([x for x, _ in test]), torch.cat([y for _, y in test])


def test_int8_network_keeps_the_trained_networks_accuracy(site_model, digits):
    calibration, images, labels = digits
    _, trained = site_model
    rows = {d.name: d for d in deployments(trained.model, calibration, images, labels, runs=1)}
    assert list(rows) == ["pytorch", "pytorch, BN folded", "pytorch, int8", "onnxruntime", "onnxruntime, int8"]
    base = rows["pytorch"].accuracy
    assert base > 0.95
    assert rows["pytorch, BN folded"].accuracy == base and rows["onnxruntime"].accuracy == base
    for name in ("pytorch, int8", "onnxruntime, int8"):
        assert abs(rows[name].accuracy - base) <= 3 / len(labels), (name, rows[name].accuracy, base)
    assert rows["onnxruntime, int8"].size_bytes < rows["onnxruntime"].size_bytes / 2
    assert all(d.latency_s > 0 for d in rows.values())


@pytest.mark.parametrize("calibration", [torch.zeros(0, 1, 8, 8), [], "images", torch.zeros(8, 8)])
def test_quantize_rejects_bad_calibration(calibration):
    with pytest.raises(ValueError, match="calibration"):
        quantize_int8(torch.nn.Conv2d(1, 1, 1), calibration)


def test_throughput_reports_each_thread_count_and_batch():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU())
    for layout in (False, True):
        result = throughput(model, (1, 8, 8), [1, 4], threads=(1, 2), channels_last=layout, runs=1)
        assert set(result) == {1, 2} and all(len(v) == 2 and min(v) > 0 for v in result.values())
    assert torch.get_num_threads() == 1  # restored (the tests run on one thread)
    with pytest.raises(ValueError, match="batch size"):
        throughput(model, (1, 8, 8), [])


def test_small_helpers_reject_bad_input():
    with pytest.raises(ValueError, match="runs"):
        median_seconds(lambda: None, runs=0)
    with pytest.raises(ValueError, match="bytes"):
        onnx_session("model.onnx")
    with pytest.raises(ValueError, match="same shape"):
        max_difference(torch.zeros(2), torch.zeros(3))
