"""The learned matcher in a process of its own, started when an item needs it and gone after an idle period.

Why a process: the encoder (torch, sentence-transformers) and scikit-learn are most of the service's memory and
are needed for the few new items of a day. Released inside the service they would not give it back: torch's
libraries stay mapped (537 -> 484 MiB measured). So the service's own process never imports them: it sends each
change that needs the model to a child process (spawned, so nothing of the parent's threads or SQLite connections is
copied) and reads back the matches; after `[matching] release_after` idle minutes the child is told to exit and the
memory goes with it. A 304 cycle, a Visa Bulletin (matched by its categories) and a paperwork notice never start it.

Retraining after new feedback runs in a second, short-lived process that stores the model under its key
(store.trained); until it is there the worker matches with the model it has, and then swaps (`use(key)`).
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from typing import Callable

from ..errors import MatcherError, WatcherError
from ..models import Change, Match
from .matcher import without_model

log = logging.getLogger(__name__)
# Longest the service waits for one answer: a first start with nothing trained trains in the worker (80 s on two
# cores), with room. A worker silent for longer is hung: it is killed and the cycle retried.
ANSWER_SECONDS = 15 * 60.0
RETRY_RETRAIN = 3600.0  # after a failed background retrain (its error is logged), try again an hour later


class MatcherProcess:
    """The `Matcher` the service uses: same `match`, the model elsewhere."""

    method = "embedding+signals"

    def __init__(self, config, inputs_key: Callable[[], str], has_model: Callable[[str], bool],
                 feedback_mark: Callable[[], tuple], clock: Callable[[], float] = time.monotonic,
                 answer_seconds: float = ANSWER_SECONDS, target: Callable | None = None):
        self.config = config
        self.inputs_key = inputs_key        # model_key of the labeled items, feedback and configuration
        self.has_model = has_model          # is a model for that key stored or installed?
        self.feedback_mark = feedback_mark  # changes when feedback does: only then is the key recomputed
        self.clock = clock
        self.answer_seconds = answer_seconds
        self.target = target or serve  # the worker's loop (a test gives one that hangs or dies)
        self.last_used = 0.0
        self._context = multiprocessing.get_context("spawn")
        self._process = None
        self._conn = None
        self._retrainer = None
        self._retry_at = 0.0
        self._key: str | None = None
        self._mark: tuple | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def match(self, change: Change) -> list[Match]:
        known = without_model(change)  # a bulletin or a paperwork notice never starts the worker
        if known is not None:
            return known
        self.last_used = self.clock()
        return self._call("match", change, self.key())

    def model_in_use(self) -> str | None:
        """The key of the model the worker matches with (None before its first item)."""
        return self._call("key")

    def key(self) -> str:
        mark = self.feedback_mark()
        if self._key is None or mark != self._mark:
            self._key, self._mark = self.inputs_key(), mark
        return self._key

    def refresh(self) -> str | None:
        """On the service's tick: train for new feedback in the background; says what it started or finished."""
        if self._retrainer is not None:
            if self._retrainer.is_alive():
                return None
            code, self._retrainer = self._retrainer.exitcode, None
            if code != 0:
                self._retry_at = self.clock() + RETRY_RETRAIN
                return f"background retraining failed (exit code {code}); next try in an hour"
            return "background retraining done: the next classification uses the new model"
        key = self.key()
        if self.clock() < self._retry_at or self.has_model(key):
            return None
        self._retrainer = self._context.Process(target=retrain, args=(self.config,), name="watcher-retrain",
                                                daemon=True)
        self._retrainer.start()
        return "the matcher's inputs changed (feedback): retraining in the background"

    def release_idle(self, idle_seconds: float) -> bool:
        """Stop the worker once nothing was classified for `idle_seconds`; the next item starts a new one."""
        if not self.running or self.clock() - self.last_used < idle_seconds:
            return False
        self._stop()
        return True

    def close(self) -> None:
        self._stop()
        if self._retrainer is not None and self._retrainer.is_alive():
            self._retrainer.terminate()  # half a training is worth nothing; the next start begins it again
            self._retrainer.join(10)

    def _call(self, op: str, *args):
        self._start()
        try:
            self._conn.send((op, args))
            if not self._conn.poll(self.answer_seconds):
                self._kill()
                raise MatcherError(f"matcher worker gave no answer in {self.answer_seconds:.0f}s: killed; the "
                                   "cycle is retried")
            status, value = self._conn.recv()
        except (EOFError, OSError):
            self._process.join(5)  # reap it, so its exit code can be said
            code = self._process.exitcode
            self._kill()
            raise MatcherError(f"matcher worker exited (exit code {code}); the cycle is retried") from None
        if status != "ok":
            raise MatcherError(f"matcher worker: {value}")
        return value

    def _start(self) -> None:
        if self.running:
            return
        self._kill()
        parent, child = self._context.Pipe()
        self._process = self._context.Process(target=self.target, args=(child, self.config), name="watcher-matcher",
                                              daemon=True)
        self._process.start()
        child.close()  # ours is the parent end only: a dead worker then reads as EOF, not as a hang
        self._conn = parent
        log.info("matcher: worker process %d started", self._process.pid)

    def _stop(self) -> None:
        if self.running:
            try:
                self._conn.send(("exit", ()))
            except OSError:
                pass
            self._process.join(10)
        self._kill()

    def _kill(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(10)
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None


def serve(conn, config) -> None:
    """The worker: one request at a time from the service until it says exit or goes away."""
    store, matcher = _open(config)
    try:
        while True:
            try:
                op, args = conn.recv()
            except (EOFError, OSError):
                return
            if op == "exit":
                return
            try:
                conn.send(("ok", _answer(matcher, op, args)))
            except WatcherError as exc:
                conn.send(("error", str(exc)))
            except Exception as exc:  # reported to the service, which records it against the cycle
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        store.close()


def _answer(matcher, op: str, args: tuple):
    if op == "key":
        return matcher.key
    if op != "match":
        raise MatcherError(f"unknown request {op!r}")
    change, key = args
    # The model for the current inputs if it is stored or installed; else the one in use or the newest stored
    # (new feedback is being trained in the background); with nothing at all, train here once.
    if not matcher.use(key) and not matcher.use_latest():
        matcher.train()
    return matcher.match(change)


def retrain(config) -> None:
    """The background retraining process: train on the current inputs and store the model under their key."""
    logging.basicConfig(level=logging.INFO, format="watcher-retrain: %(message)s")
    store, matcher = _open(config)
    try:
        started = time.perf_counter()
        matcher.train()
        log.info("matcher retrained and stored in %.0fs", time.perf_counter() - started)
    finally:
        store.close()


def _open(config):
    """The service's database and the in-process matcher on it, in a child process (imports the model's libraries)."""
    from ..app import build_matcher
    from ..store import Store

    store = Store(config.storage_path, create=False)
    return store, build_matcher(config, store)
