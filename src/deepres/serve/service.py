"""What the server knows and does, apart from HTTP: the network, its preprocessing, the engine
and batcher that run it, the limits, and the answer to one request's images."""

from __future__ import annotations

import torch

from deepres.catalog import card_of
from deepres.data import BadImage, Preprocessing, TooManyPixels, header_pixels
from deepres.engine import Engine
from deepres.evaluate import ImageViews
from deepres.weights import TrainedModel

from .batcher import Batcher
from .bodies import RequestError, Upload
from .limits import Limits
from .metrics import Metrics


class Service:
    def __init__(
        self, trained: TrainedModel, prep: Preprocessing, engine: Engine, limits: Limits = Limits()
    ):
        self.trained, self.prep, self.engine, self.limits = trained, prep, engine, limits
        self.metrics = Metrics(trained.model_name, engine.name)
        self.batcher = Batcher(
            engine,
            self.metrics,
            max_batch=limits.max_batch,
            max_wait=limits.max_wait,
            max_queue=limits.max_queue,
        )

    def views(self, uploads: list[Upload]) -> torch.Tensor:
        """The network's centre view of every upload, (N, C, crop, crop), prepared exactly as
        ``deepres predict`` prepares files; the first unusable image fails the request, and
        every image's size is checked from its header before any is decoded."""
        for i, upload in enumerate(uploads):
            self._check_header(upload, i, len(uploads))
        views = ImageViews(
            self.prep, "center", files=[u.data for u in uploads], max_pixels=self.limits.max_pixels
        )
        tensors = []
        for i, upload in enumerate(uploads):
            _, view, reason = views[i]
            if reason is not None:
                raise RequestError(400, f"{_which(upload, i, len(uploads))}: {reason}")
            tensors.append(view[0])
        return torch.cat(tensors)

    def _check_header(self, upload: Upload, i: int, count: int) -> None:
        """413 for an image whose header claims too many pixels, or a decode larger than
        ``max_decode_bytes``; 400 for a header that is no image's."""
        limits = self.limits
        try:
            w, h, per_pixel = header_pixels(upload.data, limits.max_pixels)
        except TooManyPixels as err:
            raise RequestError(413, f"{_which(upload, i, count)}: {err} (--max-pixels)") from None
        except BadImage as err:
            raise RequestError(400, f"{_which(upload, i, count)}: {err}") from None
        if w * h * per_pixel > limits.max_decode_bytes:
            raise RequestError(
                413,
                f"{_which(upload, i, count)}: decoding its {w}x{h} pixels would take about "
                f"{w * h * per_pixel / 2**20:,.0f} MiB, more than the limit of "
                f"{limits.max_decode_bytes / 2**20:,.0f} MiB (--max-decode-mb)",
            )

    def answer(self, uploads: list[Upload], scores: torch.Tensor, top_k: int) -> dict:
        probs, indices = scores.topk(min(top_k, scores.shape[1]), dim=1)
        classes = self.trained.classes
        return {
            "model": self.trained.model_name,
            "engine": self.engine.name,
            "predictions": [
                {
                    "file": upload.name,
                    "top": [{"class": classes[c], "probability": p} for c, p in zip(cs, ps)],
                }
                for upload, cs, ps in zip(uploads, indices.tolist(), probs.tolist())
            ],
        }

    def describe(self) -> dict:
        """GET /v1/model: the network, its classes, and what it expects of an image."""
        prep = self.prep.to_dict()
        del prep["mean_image"]  # thousands of numbers for CIFAR-size nets; the steps say it
        card = card_of(self.trained.path)
        return {
            "model": self.trained.model_name,
            "model_args": self.trained.model_args,
            "weights": self.trained.path.name,
            "classes": self.trained.classes,
            "classes_named": self.trained.classes_named,
            "engine": self.engine.name,
            "engine_choice": self.engine.choice,
            "preprocessing": {"steps": self.prep.steps(), **prep},
            "training": self.trained.recipe,
            "limits": vars(self.limits),
            "model_card": None if card is None else card.to_dict(),
        }

    def parse_top_k(self, text: str | None) -> int:
        if text is None:
            return self.limits.top_k
        # ASCII digits only ("²" is a digit to str.isdigit, not to int), and few of them.
        if not (text.isascii() and text.isdigit() and len(text) <= 9) or int(text) < 1:
            raise RequestError(
                400, f"top_k must be a whole number of at least 1, not {text[:20]!r}"
            )
        return int(text)


def _which(upload: Upload, i: int, count: int) -> str:
    if upload.name is None:
        return "the request body"
    return f"image {i + 1} of {count} ({upload.name!r})"
