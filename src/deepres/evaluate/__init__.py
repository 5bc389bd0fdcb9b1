"""Using a trained network: evaluation with the paper's test-time views (centre, 10-crop,
multi-scale), metrics and reports, prediction and penultimate-layer features for image files.

Imports data, models, weights and engine; never train or cli (see docs/design.md, "Layers").
"""

from .evaluation import evaluate, labels_for_network
from .infer import average_over_views, network_for, run_views
from .int8_data import calibration_images, top1_error
from .metrics import confusion_matrix, per_class_accuracy, summarize_scores, topk_error
from .predict import Prediction, collect_files, embed, predict
from .report import write_evaluation
from .views import MODES, ImageViews, default_scales

__all__ = [
    "evaluate",
    "labels_for_network",
    "calibration_images",
    "top1_error",
    "average_over_views",
    "network_for",
    "run_views",
    "confusion_matrix",
    "per_class_accuracy",
    "summarize_scores",
    "topk_error",
    "Prediction",
    "collect_files",
    "embed",
    "predict",
    "write_evaluation",
    "MODES",
    "ImageViews",
    "default_scales",
]
