"""Shipping a trained network: the final weights of a finished run, measured on the test split
of its data and written with a model card, as deepres ships its own (`deepres ship`).

    ship(RUN, "resnet20-mydata", "~/mydata", ShipTo(Path("shipped")))
    # shipped/resnet20-mydata.safetensors, .json, .md; shipped/runs/resnet20-mydata/

- Refuses a run that has not completed (summary.json), or whose last.pt is not of its last
  iteration, and a name that is not MODEL-DATA[-VARIANT] (resnet20-cifar10-fast).
- Takes the final network, checkpoints/last.pt: the paper reports the final network, not the
  one chosen on the validation split (best.pt).
- Measures the top-1 test error (the centre view, and the centre view with its mirror image
  for a recipe that validates so, such as cifar-fast) on the test split of the data, which
  must be as large as the one the run was tested on: in float32 and as the weights are
  stored: float16 (half the size) where that changes no error, float32 where it would
  ("auto", the default); float16 asked for by name is refused if it changes an error.
- Writes NAME.safetensors (with the network's name, classes, preprocessing and recipe),
  NAME.json (the model card, ``deepres.catalog.ModelCard``, with the file's sha256, which
  deepres checks on every load) and NAME.md (the card for people, with front matter for model
  hubs), all three or none; copies the run's records (metrics.jsonl, recipe.yaml,
  summary.json, meta.json, and response_std.json where the reproduction wrote one) beside
  them, never its checkpoints (they hold the optimiser too).
- A card names the data set (``data_set``, e.g. cifar10-png) and where it comes from, or else
  the folder given, with how its images are stored (their JPEG settings, measured). The
  recipe in NAME.safetensors then names the data set too, not the trainer's folder.

``DEEPRES_WEIGHTS_DIR=FOLDER`` then makes deepres use the weights shipped into FOLDER by name
(``create_model("resnet20", weights="mydata")``, `deepres predict resnet20-mydata ...`).
Imports evaluate (to measure the weights) and what it stands on; never train or cli.

The guide: docs/using.md (package a network you trained) and docs/development.md.
"""

from deepres.catalog import DATA_SETS

from .shipping import AUTO, DTYPES, Refused, ShipTo, rewrite_cards, ship

__all__ = ["AUTO", "DATA_SETS", "DTYPES", "Refused", "ShipTo", "rewrite_cards", "ship"]
