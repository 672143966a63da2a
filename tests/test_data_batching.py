"""Batches of in-memory arrays: every row once per epoch, reshuffled per epoch."""

import numpy as np
import pytest

from tfpvae.data import batching

X = np.arange(23 * 3, dtype=np.float32).reshape(23, 3)
Y = np.arange(23, dtype=np.int64)


def epoch_rows(dataset):
    """Per epoch of `dataset`: the batch sizes and the rows' first column, in order."""
    batches = [np.asarray(b) for b in dataset]
    return [len(b) for b in batches], np.concatenate([b[:, 0] for b in batches])


def test_an_epoch_holds_every_row_once_with_the_remainder_last():
    sizes, rows = epoch_rows(batching.batched(X, 5, seed=3))
    assert sizes == [5, 5, 5, 5, 3] and batching.batched(X, 5).cardinality() == 5
    np.testing.assert_array_equal(np.sort(rows), X[:, 0])
    assert not np.array_equal(rows, X[:, 0])  # shuffled


def test_each_iteration_reshuffles_and_the_seed_reproduces_them():
    dataset = batching.batched(X, 4, seed=3)
    first, second = epoch_rows(dataset)[1], epoch_rows(dataset)[1]
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(np.sort(second), X[:, 0])
    again = batching.batched(X, 4, seed=3)
    np.testing.assert_array_equal(epoch_rows(again)[1], first)
    np.testing.assert_array_equal(epoch_rows(again)[1], second)
    assert not np.array_equal(epoch_rows(batching.batched(X, 4, seed=4))[1], first)


def test_repeat_gives_a_fresh_permutation_per_epoch():
    rows = np.concatenate([np.asarray(b)[:, 0] for b in batching.batched(X, 23, seed=1).repeat().take(3)])
    epochs = rows.reshape(3, 23)
    for epoch in epochs:
        np.testing.assert_array_equal(np.sort(epoch), X[:, 0])
    assert len({epoch.tobytes() for epoch in epochs}) == 3


def test_without_shuffle_the_rows_stay_in_order():
    sizes, rows = epoch_rows(batching.batched(X, 10, shuffle=False))
    assert sizes == [10, 10, 3]
    np.testing.assert_array_equal(rows, X[:, 0])


@pytest.mark.parametrize("batch_size", [1, 23, 50])
def test_tuples_stay_aligned_at_any_batch_size(batch_size):
    dataset = batching.batched((X, Y), batch_size, seed=0)
    for x, y in dataset:
        np.testing.assert_array_equal(np.asarray(x)[:, 0], 3 * np.asarray(y))
    assert dataset.cardinality() == -(-23 // batch_size)
