"""One writer at a time, shared by the work that queued while it wrote (the fast vote's ballots on SQLite).

Work waits its turn on a lock every writer of its kind in this process takes (for ballots, the one the vote view
takes too: kiosk/consult/service/voting.py). In a vote storm most of a turn was spent not writing but waiting for
the GIL between one statement and the next, while the other threads, each waiting for its own turn, held one
ballot apiece. Here the thread that gets the lock writes everything queued at that moment, its own among it, in
one go (`commit`), and wakes the threads it wrote for, which answer their own requests; the others wait on their
own item, not on the lock. A thread whose item was not written by the end of its wait writes it alone without the
lock, as a writer that waited that long for the lock does (the database's own busy timeout decides then).
"""
import collections
import threading
import time

LOOK_AGAIN_SECONDS = 0.05  # a waiting item's thread looks again this often, in case no one woke it


class Queued:
    """One item on its way to the database: what `commit` sets once its turn is over (its result, or the trouble
    its request answers), and whether that has happened."""

    __slots__ = ("item", "result", "trouble", "done", "wake")

    def __init__(self, item):
        self.item = item
        self.result = self.trouble = None
        self.done = False
        self.wake = threading.Event()


class Turns:
    """The queue in front of one writer lock."""

    def __init__(self, writer):
        self.writer = writer
        self.queue = collections.deque()
        self.queue_lock = threading.Lock()

    def write(self, item, timeout, commit):
        """Queue `item` and return its Queued once written: by this thread, if it gets the writer, with everything
        queued (`commit(list of Queued)` sets each one's result or trouble), or by another thread that did."""
        queued = Queued(item)
        with self.queue_lock:
            self.queue.append(queued)
        deadline = time.monotonic() + timeout
        while not queued.done:
            if self.writer.acquire(blocking=False):
                self._lead(commit)
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                with self.queue_lock:
                    alone = queued in self.queue
                    if alone:
                        self.queue.remove(queued)
                if alone:
                    self._run(commit, [queued])
                else:
                    queued.wake.wait()  # being written now: its writer is bound by the database's busy timeout
                continue
            queued.wake.wait(min(left, LOOK_AGAIN_SECONDS))
            queued.wake.clear()
        return queued

    def _lead(self, commit):
        """Holding the writer: write what is queued and let go; then, if more queued meanwhile, wake the first of
        them to take the next turn."""
        try:
            with self.queue_lock:
                batch = list(self.queue)
                self.queue.clear()
            self._run(commit, batch)
        finally:
            self.writer.release()
        with self.queue_lock:
            waiting = self.queue[0] if self.queue else None
        if waiting is not None:
            waiting.wake.set()

    @staticmethod
    def _run(commit, batch):
        """Write the batch; each item is done (and its thread woken) whatever happens, with any trouble its own."""
        try:
            if batch:
                commit(batch)
        except Exception as trouble:  # noqa: BLE001 - each request answers it
            for queued in batch:
                if queued.trouble is None:
                    queued.result, queued.trouble = None, trouble
        finally:
            for queued in batch:
                queued.done = True
                queued.wake.set()
