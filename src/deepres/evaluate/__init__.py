"""Using a trained network: evaluation with the paper's test-time views (centre, 10-crop,
multi-scale), metrics and reports, prediction and penultimate-layer features for image files.

    results = evaluate(trained, prep, dataset, ["center", "ten-crop"])
    for prediction in predict(trained, prep, files, top_k=3): ...

Below are the names a user's script needs; deepres's own modules import the rest from the
module that defines it (``deepres.evaluate.metrics``, ``.infer``, ``.views``, ...). Imports
data, models, weights and engine; never train or cli (see docs/design.md, "Layers").

The guide: docs/using.md (evaluate, predict and embed).
"""

from .evaluation import evaluate
from .predict import Prediction, collect_files, embed, predict
from .report import write_evaluation
from .views import MODES

__all__ = [
    "evaluate",
    "predict",
    "embed",
    "Prediction",
    "collect_files",
    "write_evaluation",
    "MODES",
]
