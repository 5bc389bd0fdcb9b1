"""What a person watching a run sees: a progress bar on a terminal, or one line per log point
when quiet or when stderr goes to a file or a pipe (where a bar's carriage returns would pile
up), and the same figures as TensorBoard events."""

from __future__ import annotations

import sys
from pathlib import Path

from tqdm import tqdm

from deepres.extras import available

SHOWN = (
    ("train_loss", "loss", "{:.3f}"),
    ("train_error", "err", "{:.1%}"),
    ("lr", "lr", "{:.3g}"),
    ("images_per_s", "img/s", "{:,.0f}"),
    ("val_error", "val", "{:.2%}"),
    ("test_error", "test", "{:.2%}"),
)


class Progress:
    def __init__(self, total: int, start: int, *, quiet: bool, log_dir: Path, enabled: bool = True):
        """``enabled=False`` (processes other than rank 0) shows and writes nothing."""
        self.enabled = enabled
        plain = quiet or not enabled or not sys.stderr.isatty()
        self.bar = (
            None
            if plain
            else tqdm(
                total=total,
                initial=start,
                unit="it",
                dynamic_ncols=True,
                file=sys.stderr,
                smoothing=0.1,
            )
        )
        self.fields: dict[str, str] = {}
        # purge_step drops the events that a resumed run is about to write again: those after
        # its checkpoint's iteration (all of them when it starts again from 0).
        self.writer = None
        if enabled and available("tensorboard"):  # the extra; the run says when it is absent
            from torch.utils.tensorboard import SummaryWriter  # slow import: only when training

            self.writer = SummaryWriter(str(log_dir), purge_step=start + 1)

    def step(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def log(self, record: dict) -> None:
        if not self.enabled:
            return
        shown = {short: fmt.format(record[key]) for key, short, fmt in SHOWN if key in record}
        self.fields.update(shown)
        if self.bar is not None:
            self.bar.set_postfix(self.fields, refresh=False)
        else:
            text = "  ".join(f"{k} {v}" for k, v in shown.items())
            print(f"iteration {record['iteration']:,}  {text}", file=sys.stderr, flush=True)
        for key, value in record.items():
            if self.writer is None:
                break
            if key not in ("iteration", "images", "seconds") and isinstance(value, (int, float)):
                self.writer.add_scalar(key, value, record["iteration"])

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.writer is not None:
            self.writer.close()
