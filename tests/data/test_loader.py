"""BatchLoader over arrays: the augmentation is right, keeps labels with their images, is
deterministic for a seed, and resumes bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepres.data import ArrayDataset, BatchLoader, DataError, Stats, open_source
from deepres.data.augment import random_crop_flip

N, SIDE, PAD = 300, 32, 4


def coded_dataset(n=N, side=SIDE) -> ArrayDataset:
    """Image k: red = 7 * row + 1, green = 7 * column + 1, blue = 20 * label + 1, so any
    pixel of a batch says where it came from and whose label it carries (0 is padding)."""
    rows = np.arange(side)[:, None].repeat(side, 1)
    labels = np.arange(n) % 10
    images = np.empty((n, 3, side, side), np.uint8)
    images[:, 0] = 7 * rows + 1
    images[:, 1] = 7 * rows.T + 1
    images[:, 2] = (20 * labels + 1)[:, None, None]
    dataset = ArrayDataset(images, labels, classes=[str(i) for i in range(10)])
    # Identity statistics: the loader's output * 255 is the stored pixel value.
    dataset.stats = Stats((0.0,) * 3, (1.0,) * 3, np.zeros((3, side, side), np.float32))
    return dataset


def all_batches(loader, epochs=1):
    return [(x.clone(), y.clone()) for _ in range(epochs) for x, y in loader]


def decode_views(images: torch.Tensor):
    """(top offset, left offset, flipped) of each augmented coded image, read off its pixels."""
    pixels = (images * 255).round().long()
    centre = SIDE // 2
    source_row = (pixels[:, 0, centre, centre] - 1) // 7
    source_col = (pixels[:, 1, centre, centre] - 1) // 7
    flipped = pixels[:, 1, centre, centre + 1] < pixels[:, 1, centre, centre]
    top = source_row - centre + PAD
    left = torch.where(flipped, source_col - (SIDE - 1 - centre), source_col - centre) + PAD
    return top, left, flipped


def test_crop_and_flip_statistics():
    loader = BatchLoader(coded_dataset(2000), 250, train=True, augment="cifar")
    images = torch.cat([x for x, _ in loader])
    top, left, flipped = decode_views(images)
    assert set(top.tolist()) == set(range(2 * PAD + 1))  # every offset 0..8 occurs
    assert set(left.tolist()) == set(range(2 * PAD + 1))
    assert np.bincount(top, minlength=9).min() > 2000 / 9 * 0.6  # and roughly evenly
    assert 0.45 < flipped.float().mean().item() < 0.55
    assert set(decode_views(images)[2].tolist()) == {False, True}


def test_crop_matches_a_per_image_reference():
    images = torch.rand(16, 3, 8, 8)
    offsets = torch.randint(0, 5, (16, 2))
    flips = torch.rand(16) < 0.5
    out = random_crop_flip(images, offsets, flips, padding=2)
    for k in range(16):
        padded = np.pad(images[k].numpy(), ((0, 0), (2, 2), (2, 2)))
        view = padded[:, offsets[k, 0] : offsets[k, 0] + 8, offsets[k, 1] : offsets[k, 1] + 8]
        expected = view[:, :, ::-1] if flips[k] else view
        assert np.array_equal(out[k].numpy(), expected)


def test_labels_stay_with_their_images():
    for augment in ("cifar", "crop", "none"):
        loader = BatchLoader(coded_dataset(), 64, train=True, augment=augment)
        for images, labels in loader:
            blue = (images[:, 2, SIDE // 2, SIDE // 2] * 255).round().long()
            assert torch.equal(blue, 20 * labels + 1)


def test_crop_augment_never_flips_and_none_keeps_images_whole():
    _, _, flipped = decode_views(
        torch.cat([x for x, _ in BatchLoader(coded_dataset(), 100, train=True, augment="crop")])
    )
    assert not flipped.any()
    images = torch.cat(
        [x for x, _ in BatchLoader(coded_dataset(), 100, train=True, augment="none")]
    )
    top, left, flipped = decode_views(images)
    assert (top == PAD).all() and (left == PAD).all() and not flipped.any()


def test_same_seed_same_batches_other_seed_or_epoch_differs():
    def run(seed):
        return all_batches(BatchLoader(coded_dataset(), 64, train=True, seed=seed), epochs=2)

    first, again, other = run(1), run(1), run(2)
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(first, again))
    assert not torch.equal(first[0][0], other[0][0])
    per_epoch = len(first) // 2
    assert not torch.equal(first[0][0], first[per_epoch][0])  # epoch 1 is not epoch 0 again


def test_an_epoch_visits_every_image_once():
    dataset = coded_dataset(100)
    dataset.labels = np.arange(100)  # labels as identities
    loader = BatchLoader(dataset, 32, train=True)
    assert len(loader) == 3  # drop_last in training
    seen = torch.cat([y for _, y in loader])
    assert len(seen) == 96 and len(set(seen.tolist())) == 96
    evaluation = BatchLoader(dataset, 32, train=False)
    assert len(evaluation) == 4
    assert torch.cat([y for _, y in evaluation]).tolist() == list(range(100))  # in order


def test_resume_gives_the_same_remaining_batches():
    reference = BatchLoader(coded_dataset(), 64, train=True, seed=3)
    expected = all_batches(reference, epochs=3)
    interrupted = BatchLoader(coded_dataset(), 64, train=True, seed=3)
    seen = all_batches(interrupted)  # epoch 0
    for images, labels in interrupted:  # two batches into epoch 1, then "crash"
        seen.append((images, labels))
        if len(seen) == len(interrupted) + 2:
            break
    state = interrupted.state_dict()
    assert (state["epoch"], state["position"]) == (1, 2)
    resumed = BatchLoader(coded_dataset(), 64, train=True, seed=3)
    resumed.load_state_dict(state)
    rest = all_batches(resumed, epochs=2)  # the rest of epoch 1, then epoch 2
    assert len(seen) + len(rest) == len(expected)
    for (a, b), (c, d) in zip(seen + rest, expected):
        assert torch.equal(a, c) and torch.equal(b, d)


def test_state_from_another_setup_is_refused():
    state = BatchLoader(coded_dataset(), 64, train=True, seed=3).state_dict()
    with pytest.raises(DataError, match="different set-up.*seed"):
        BatchLoader(coded_dataset(), 64, train=True, seed=4).load_state_dict(state)


def test_set_epoch_reproduces_that_epoch():
    loader = BatchLoader(coded_dataset(), 64, train=True)
    epochs = [all_batches(loader) for _ in range(3)]
    loader.set_epoch(1)
    again = all_batches(loader)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(again, epochs[1]))


def test_ranks_split_each_global_batch():
    dataset = coded_dataset(100)
    dataset.labels = np.arange(100)
    single = [y for _, y in BatchLoader(dataset, 20, train=True, seed=5)]
    ranks = [
        [y for _, y in BatchLoader(dataset, 10, train=True, seed=5, rank=r, world_size=2)]
        for r in range(2)
    ]
    assert len(ranks[0]) == len(ranks[1]) == 5
    for step, global_batch in enumerate(single):
        shares = torch.cat([ranks[0][step], ranks[1][step]])
        assert sorted(shares.tolist()) == sorted(global_batch.tolist())


def test_normalisations_use_the_training_statistics():
    splits = open_source("digits")
    pixel = torch.cat([x for x, _ in BatchLoader(splits.train, 256, train=False)])
    assert pixel.mean(0).abs().max() < 1e-5  # the mean image is subtracted, pixel by pixel
    channel = torch.cat(
        [x for x, _ in BatchLoader(splits.train, 256, train=False, normalize="channel")]
    )
    assert abs(channel.mean().item()) < 1e-4 and abs(channel.std().item() - 1) < 1e-3
    test = torch.cat([x for x, _ in BatchLoader(splits.test, 256, train=False)])
    expected = splits.test.images / 255.0 - splits.mean_image  # train's mean, not test's
    assert torch.allclose(test, torch.from_numpy(expected).float(), atol=1e-6)


def test_loader_options_are_checked():
    dataset = coded_dataset()
    with pytest.raises(DataError, match="augment='imagenet' does not apply"):
        BatchLoader(dataset, 8, train=True, augment="imagenet")
    with pytest.raises(ValueError, match="normalize"):
        BatchLoader(dataset, 8, train=True, normalize="zca")
    dataset.stats = None
    with pytest.raises(DataError, match="no training statistics"):
        BatchLoader(dataset, 8, train=True)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_batches_equal_cpu_batches():
    cpu = all_batches(BatchLoader(coded_dataset(), 64, train=True, seed=7))
    gpu = all_batches(BatchLoader(coded_dataset(), 64, train=True, seed=7, device="cuda"))
    for (a, b), (c, d) in zip(cpu, gpu):
        assert c.device.type == "cuda" and d.dtype == torch.int64
        assert torch.allclose(a, c.cpu()) and torch.equal(b, d.cpu())


def test_each_iteration_goes_on_where_the_last_stopped():
    dataset = coded_dataset(100)
    dataset.labels = np.arange(100)
    loader = BatchLoader(dataset, 25, train=True)
    whole = [y for _, y in BatchLoader(dataset, 25, train=True, seed=0)]
    peeks = [next(iter(loader))[1] for _ in range(4)]
    assert all(torch.equal(a, b) for a, b in zip(peeks, whole))
    assert (loader.state_dict()["epoch"], loader.state_dict()["position"]) == (1, 0)
    with pytest.raises(DataError, match="no batch of 128 in 100"):
        BatchLoader(dataset, 128, train=True)
    assert len(BatchLoader(dataset, 128, train=False)) == 1  # evaluation keeps the rest
