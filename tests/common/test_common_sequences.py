import numpy as np
import pytest

from affrepro.sequences import batch_inputs, concat_on_shared_frames, fit_standardiser, running_sum, to_fixed_length


def test_concat_keeps_only_shared_frames_in_order():
    a = (np.array([[1.0], [2.0], [3.0]]), np.array([0, 2, 5]))
    b = (np.array([[10.0, 11.0], [50.0, 51.0]]), np.array([0, 5]))
    features, index = concat_on_shared_frames([a, b])
    assert index.tolist() == [0, 5]
    assert features.tolist() == [[1.0, 10.0, 11.0], [3.0, 50.0, 51.0]]


def test_fixed_length_pads_and_masks():
    x, mask = to_fixed_length(np.ones((3, 2), np.float32), 5)
    assert x.tolist() == [[1, 1], [1, 1], [1, 1], [0, 0], [0, 0]]
    assert mask.tolist() == [True, True, True, False, False]


def test_fixed_length_samples_long_sequences_evenly():
    sequence = np.arange(10, dtype=np.float32)[:, None]
    x, mask = to_fixed_length(sequence, 4)
    assert x[:, 0].tolist() == [0, 3, 6, 9] and mask.all()


def test_empty_sequence_becomes_one_mean_step():
    x, mask = to_fixed_length(np.zeros((0, 3), np.float32), 4)
    assert mask.tolist() == [True, False, False, False] and not x.any()


def test_standardiser_uses_training_frames():
    mean, std = fit_standardiser(lambda: [np.array([[0.0, 5.0], [2.0, 5.0]]), np.zeros((0, 2)), np.array([[4.0, 5.0]])])
    assert mean.tolist() == [2.0, 5.0]
    assert np.allclose(std, [np.sqrt(8 / 3), 1.0])  # constant column keeps std 1
    x, mask = batch_inputs([np.array([[4.0, 5.0]])], mean, std, 2)
    assert np.allclose(x[0, 0], [2 / np.sqrt(8 / 3), 0.0]) and mask[0].tolist() == [True, False]


def test_streaming_standardiser_is_bitwise_the_in_memory_one():
    """Two streaming passes give numpy's float64 mean and std of all frames at once, to the last bit."""
    rng = np.random.default_rng(3)
    sequences = [
        (rng.normal(size=(int(rng.integers(0, 120)), 37)) * rng.uniform(0.1, 50) + rng.uniform(-9, 9)).astype(
            np.float32
        )
        for _ in range(40)
    ]
    frames = np.concatenate(sequences).astype(np.float64)
    assert np.array_equal(running_sum(s.astype(np.float64) for s in sequences)[0], frames.sum(0))
    mean, std = fit_standardiser(lambda: iter(sequences))
    assert np.array_equal(mean, frames.mean(0).astype(np.float32)) and np.array_equal(
        std, frames.std(0).astype(np.float32)
    )
    with pytest.raises(ValueError, match="no training frames"):
        fit_standardiser(lambda: [np.zeros((0, 3), np.float32)])
