"""Progress bars for the CLI from the progress lines long steps already log.

Steps report progress as log lines `label: done/total (pct%) ...` (runlog.Progress and the
store writers); rules send them to log files. `bar_log` turns them into one tqdm bar per
label on a terminal and prints every other line above the bars; on anything else (a pipe, a
file) it writes the lines as they are, so logs stay readable.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from tsmsnet.runlog import Log, stream_log

PROGRESS_LINE = re.compile(r"^(?P<label>.+?): (?P<done>\d+)/(?P<total>\d+) \(\d+%\)")


def short_label(label: str) -> str:
    """Paths in a progress label shortened to their last part, so the bar keeps its width."""
    return " ".join(Path(t).name if "/" in t or "\\" in t else t for t in label.split(" "))


class BarLog:
    """A Log callable drawing tqdm bars for progress lines; close() ends the open bars."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.bars: dict[str, tqdm] = {}

    def __call__(self, message: str) -> None:
        match = PROGRESS_LINE.match(message)
        if match is None:
            tqdm.write(f"{time.strftime('%H:%M:%S')} {message}", file=self.stream)
            return
        label, done, total = match["label"], int(match["done"]), int(match["total"])
        bar = self.bars.get(label)
        if bar is None or bar.total != total:
            if bar is not None:
                bar.close()
            bar = self.bars[label] = tqdm(
                total=total,
                desc=short_label(label),
                file=self.stream,
                leave=True,
                dynamic_ncols=True,
            )
        bar.update(max(done - bar.n, 0))
        if done >= total:
            bar.close()
            del self.bars[label]

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()

    def __enter__(self) -> BarLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def bar_log(stream: TextIO | None = None, bars: bool | None = None) -> Log:
    """Bars on a terminal (bars=None), or as asked; plain timestamped lines otherwise."""
    stream = stream if stream is not None else sys.stderr
    if bars is None:
        bars = bool(getattr(stream, "isatty", lambda: False)())
    return BarLog(stream) if bars else stream_log(stream)
