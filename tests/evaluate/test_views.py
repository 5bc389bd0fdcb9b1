"""Test-time views: their shapes, and scores that agree with computing each view by hand."""

from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from deepres.data import ArrayDataset, Preprocessing, Stats
from deepres.data.decode import decode_square
from deepres.data.stream import load_image
from deepres.engine import open_engine
from deepres.errors import UsageError
from deepres.evaluate import evaluate
from deepres.evaluate.infer import run_views
from deepres.evaluate.views import ImageViews, default_scales
from deepres.models import build_network
from deepres.weights import TrainedModel

SIDE, PAD = 16, 2


def _array_prep(flip=True):
    rng = np.random.default_rng(0)
    mean_image = rng.uniform(0.3, 0.6, (3, SIDE, SIDE)).astype(np.float32)
    stats = Stats((0.5, 0.5, 0.5), (0.25, 0.25, 0.25), mean_image)
    return Preprocessing(
        kind="array",
        resize=SIDE,
        crop=SIDE,
        in_chans=3,
        normalize="pixel_mean",
        stats=stats,
        flip=flip,
        padding=PAD,
    )


def _images(n=6):
    return np.random.default_rng(1).integers(0, 256, (n, 3, SIDE, SIDE), dtype=np.uint8)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_network("resnet20", num_classes=5).eval()


def _scores(model, views, batch_size=4):
    batches = list(run_views(open_engine(model, "scores"), views, batch_size=batch_size))
    return torch.cat([b.outputs for b in batches])


def _mean_softmax(model, views):
    """The average softmax over one image's views, each view cut by the caller."""
    with torch.no_grad():
        if len({v.shape for v in views}) == 1:
            return model(torch.stack(views)).softmax(1).mean(0)
        return torch.stack([model(v[None]).softmax(1)[0] for v in views]).mean(0)


def _normalized(prep, image):
    return torch.from_numpy(image).float() / 255 - torch.from_numpy(prep.stats.mean_image)


def _by_hand_ten_crop(square, crop, flip):
    h, w = square.shape[-2:]
    corners = [
        (0, 0),
        (0, w - crop),
        (h - crop, 0),
        (h - crop, w - crop),
        ((h - crop) // 2, (w - crop) // 2),
    ]
    views = [square[:, t : t + crop, l : l + crop] for t, l in corners]
    return views + [v.flip(-1) for v in views] if flip else views


@pytest.mark.parametrize("flip", [True, False])
def test_ten_crop_of_array_images(model, flip):
    prep, images = _array_prep(flip), _images()
    views = ImageViews(prep, "ten-crop", images=images)
    (crops,) = views.views(0)
    assert crops.shape == (10 if flip else 5, 3, SIDE, SIDE)
    expected = torch.stack(
        [
            _mean_softmax(
                model, _by_hand_ten_crop(F.pad(_normalized(prep, im), [PAD] * 4), SIDE, flip)
            )
            for im in images
        ]
    )
    torch.testing.assert_close(_scores(model, views), expected, atol=1e-5, rtol=1e-4)


def test_multi_scale_of_array_images(model):
    prep, images = _array_prep(), _images()
    scales = default_scales(prep)
    assert scales == (16, 18, 27, 34, 46)  # the paper's {224, ..., 640} in proportion to 16
    views = ImageViews(prep, "multi-scale", images=images)
    assert [tuple(v.shape) for v in views.views(0)] == [(1, 3, s, s) for s in scales]
    expected = []
    for im in images:
        x = _normalized(prep, im)[None]
        expected.append(
            _mean_softmax(
                model,
                [
                    F.interpolate(x, size=(s, s), mode="bilinear", align_corners=False)[0]
                    for s in scales
                ],
            )
        )
    torch.testing.assert_close(
        _scores(model, views, batch_size=4), torch.stack(expected), atol=1e-5, rtol=1e-4
    )


def test_center_view_is_the_image_itself_for_array_data(model):
    prep, images = _array_prep(), _images()
    (view,) = ImageViews(prep, "center", images=images).views(2)
    torch.testing.assert_close(view[0], _normalized(prep, images[2]))


def test_center_flip_averages_the_image_and_its_mirror(model):
    prep, images = _array_prep(), _images()
    views = ImageViews(prep, "center-flip", images=images)
    expected = [
        _mean_softmax(model, [x, x.flip(-1)]) for x in map(partial(_normalized, prep), images)
    ]
    torch.testing.assert_close(_scores(model, views), torch.stack(expected), atol=1e-5, rtol=1e-4)


def test_center_flip_is_refused_for_a_network_trained_without_mirror_images():
    with pytest.raises(UsageError, match="--mode center"):
        ImageViews(_array_prep(flip=False), "center-flip", images=_images())


@pytest.fixture
def photos(tmp_path):
    """Two 'large' images of different shapes (scaled-down stand-ins for ImageNet photos)."""
    from PIL import Image

    rng = np.random.default_rng(2)
    paths = []
    for i, (w, h) in enumerate([(60, 45), (44, 70)]):
        path = tmp_path / f"photo{i}.png"
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(path)
        paths.append(str(path))
    return paths


def _stream_prep():
    """ImageNet's recipe in miniature: shorter side 40, centre 32 (as 256 and 224)."""
    stats = Stats(
        (0.5, 0.4, 0.3), (0.2, 0.25, 0.3), np.array([0.5, 0.4, 0.3], np.float32)[:, None, None]
    )
    return Preprocessing(
        kind="stream",
        resize=40,
        crop=32,
        in_chans=3,
        normalize="channel",
        stats=stats,
        flip=True,
        padding=0,
    )


def _channel_normalized(prep, image_chw):
    mean = torch.tensor(prep.stats.mean).view(3, 1, 1)
    std = torch.tensor(prep.stats.std).view(3, 1, 1)
    return (image_chw.float() / 255 - mean) / std


def test_stream_views_of_files(model, photos):
    prep = _stream_prep()
    center = ImageViews(prep, "center", files=photos)
    ten = ImageViews(prep, "ten-crop", files=photos)
    multi = ImageViews(prep, "multi-scale", files=photos, scales=(32, 40, 56))
    assert [v.shape for v in ten.views(0)] == [(10, 3, 32, 32)]
    assert [tuple(v.shape) for v in multi.views(0)] == [
        (1, 3, 32, 43),
        (1, 3, 40, 53),
        (1, 3, 56, 75),
    ]
    for i, path in enumerate(photos):
        square = _channel_normalized(prep, torch.from_numpy(decode_square(path, 40)))
        torch.testing.assert_close(center.views(i)[0][0], square[:, 4:36, 4:36])
    expected_ten = torch.stack(
        [
            _mean_softmax(
                model,
                _by_hand_ten_crop(
                    _channel_normalized(prep, torch.from_numpy(decode_square(p, 40))), 32, True
                ),
            )
            for p in photos
        ]
    )
    torch.testing.assert_close(_scores(model, ten), expected_ten, atol=1e-5, rtol=1e-4)
    expected_multi = torch.stack(
        [
            _mean_softmax(
                model, [_channel_normalized(prep, load_image(p, s)) for s in (32, 40, 56)]
            )
            for p in photos
        ]
    )
    torch.testing.assert_close(_scores(model, multi), expected_multi, atol=1e-5, rtol=1e-4)


def test_evaluate_agrees_with_the_scores_computed_by_hand(model):
    prep, images = _array_prep(), _images(12)
    labels = np.arange(12) % 5
    dataset = ArrayDataset(images, labels, classes=list("abcde"), name="toy")
    trained = TrainedModel(
        model=model,
        model_name="resnet20",
        model_args={},
        classes=list("abcde"),
        preprocessing=None,
        path=Path("toy.pt"),
        classes_named=True,
        recipe=None,
    )
    results = evaluate(trained, prep, dataset, ["center", "ten-crop"], batch_size=5)
    assert results["classes"] == list("abcde")
    for mode in ("center", "ten-crop"):
        scores = torch.stack(
            [
                _mean_softmax(model, list(v[0]))
                for v in (ImageViews(prep, mode, images=images).views(i) for i in range(12))
            ]
        )
        top = scores.topk(5, dim=1).indices
        correct = top[:, 0] == torch.from_numpy(labels)
        summary = results["modes"][mode]
        assert summary["images"] == 12
        assert summary["top1_error"] == pytest.approx(1 - correct.float().mean().item())
        assert summary["top5_error"] is None  # five classes: top-5 would always be right
        confusion = summary["confusion"]
        assert confusion.sum() == 12 and confusion.trace() == correct.sum().item()
