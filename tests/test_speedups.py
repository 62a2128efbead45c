"""Int8 quantization (torchao PT2E) and the measurements of chapter 12 and `python -m inception.bench`."""

import pytest
import torch

from inception.quantize import quantize_int8
from inception.speedups import (
    deployments,
    digits_tensors,
    inference_bytes,
    max_difference,
    median_seconds,
    onnx_session,
    state_dict_bytes,
    throughput,
)


@pytest.fixture(scope="module")
def digits():
    return digits_tensors(calibration_size=128)


def test_int8_network_keeps_the_trained_networks_accuracy(site_model, digits):
    calibration, images, labels = digits
    _, trained = site_model
    trained.model.train()
    rows = {d.name: d for d in deployments(trained.model, calibration, images, labels, runs=1)}
    assert trained.model.training  # left in the mode it was in
    trained.model.eval()
    assert list(rows) == ["pytorch", "pytorch, BN folded", "pytorch, int8", "onnxruntime", "onnxruntime, int8"]
    base = rows["pytorch"].accuracy
    assert base > 0.95
    assert rows["pytorch, BN folded"].accuracy == base and rows["onnxruntime"].accuracy == base
    for name in ("pytorch, int8", "onnxruntime, int8"):
        assert abs(rows[name].accuracy - base) <= 3 / len(labels), (name, rows[name].accuracy, base)
    assert rows["onnxruntime, int8"].size_bytes < rows["onnxruntime"].size_bytes / 2
    # like for like: PyTorch's sizes count what eval mode reads (no auxiliary head), as the ONNX files do
    assert abs(rows["pytorch, BN folded"].size_bytes / rows["onnxruntime"].size_bytes - 1) < 0.05
    assert abs(rows["pytorch, int8"].size_bytes / rows["onnxruntime, int8"].size_bytes - 1) < 0.2
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


def test_inference_bytes_leave_out_the_auxiliary_head(site_model):
    _, trained = site_model
    assert trained.model.AuxLogits is not None
    assert inference_bytes(trained.model) < state_dict_bytes(trained.model) - 4 * 100_000


def test_deployments_reject_a_precomputed_piece_that_is_not_a_network(digits):
    calibration, images, labels = digits
    with pytest.raises(ValueError, match="nn.Module"):
        deployments(torch.nn.Identity(), calibration, images, labels, folded="the folded network")
