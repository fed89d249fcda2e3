"""A search's progress in Python: a tqdm bar when tqdm is installed, else the CLI's line
(done/total, trainings/s, time left) on a terminal's stderr."""
import contextlib
import sys
import time


class _Line:
    """host/cli/progress_line.cpp's line."""

    def __init__(self):
        self.started = time.monotonic()
        self.drawn = False

    def update(self, done, total):
        if total == 0:
            return
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = "--:--"
        if rate > 0 and done > 0:
            left = int((total - done) / rate + 0.5)
            eta = f"{left // 3600}:{left // 60 % 60:02d}:{left % 60:02d}"
        sys.stderr.write(f"\r  {done}/{total} trainings  {rate:.1f} trainings/s  ETA {eta}   ")
        sys.stderr.flush()
        self.drawn = True

    def close(self):
        if self.drawn:
            sys.stderr.write("\n")


class _Bar:
    def __init__(self, tqdm):
        self.tqdm = tqdm
        self.bar = None

    def update(self, done, total):
        if total == 0:
            return
        if self.bar is None:
            self.bar = self.tqdm(total=total, initial=done, unit="training")
        self.bar.update(done - self.bar.n)

    def close(self):
        if self.bar is not None:
            self.bar.close()


class _Silent:
    def update(self, done, total):
        pass

    def close(self):
        pass


@contextlib.contextmanager
def progress_display(wanted):
    display = _Silent()
    if wanted:
        try:
            from tqdm.auto import tqdm
            display = _Bar(tqdm)
        except ImportError:
            if sys.stderr.isatty():
                display = _Line()
    try:
        yield display
    finally:
        display.close()
