"""Write docs/runs/NAME/test-errors.txt for weights shipped before `deepres ship` wrote it:
the test images that shipped network NAME gets wrong, found by deepres's own evaluation of
the shipped file, refused unless there are as many as its card's test error says.

    python scripts/list_test_errors.py resnet56-cifar10 --data ~/data/cifar10-jpeg
"""

import argparse
import sys
from pathlib import Path

from deepres.catalog import SHIPPED_WEIGHTS, ModelCard, list_weights
from deepres.data import open_source
from deepres.errors import DeepresError
from deepres.ship.shipping import TEST_ERRORS, measured, test_errors_text

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="shipped weights, e.g. resnet20-cifar10")
    parser.add_argument("--data", required=True, help="the folder of the card's data set")
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    if args.name not in list_weights():
        parser.error(f"{args.name}: not shipped with deepres ({', '.join(list_weights())})")
    card = ModelCard.read(SHIPPED_WEIGHTS / f"{args.name}.json")
    try:
        test = open_source(args.data, cache_dir=args.cache_dir).test
    except DeepresError as err:
        parser.error(str(err))
    if test is None or test.files is None:
        parser.error(f"{args.data}: no test split of image files (the card's is {card.data.set})")
    wrong = measured(SHIPPED_WEIGHTS / card.file, test, ["center"])["center"]["wrong"]
    text = test_errors_text(test, wrong)
    expected = round(card.test_error * card.test_images)
    if len(test) != card.test_images or len(wrong) != expected:
        print(
            f"{args.name}: {len(wrong)} of {len(test)} test images wrong in {args.data}, the card "
            f"says {expected} of {card.test_images}: is it the card's data set?",
            file=sys.stderr,
        )
        return 1
    (REPO / card.results / TEST_ERRORS).write_text(text)
    print(f"{REPO / card.results / TEST_ERRORS}: {len(wrong)} images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
