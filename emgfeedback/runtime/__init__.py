"""The runtime: one acquisition thread between a source and its consumers (screen, store, LSL).

Flow: source -> decoder -> chain (dsp) -> feedback -> ring buffer, listeners, snapshots.

Thread contract (who runs what):

- **The reader thread** (``Acquisition._run``) is the only one that touches the source, the
  pipeline, the feedback engine and the quality monitor after ``start()``. It drains the
  command queue before every chunk, writes the ring buffer, calls listeners, and publishes a
  new immutable :class:`~emgfeedback.runtime.blocks.LiveSnapshot` after every chunk.
- **Any other thread** (the Qt UI thread, ``record``'s main loop, a test) talks to the reader
  only through :meth:`Acquisition.send` (a queue of :mod:`~emgfeedback.runtime.commands`), and
  reads only: ``snapshot()``, the ring buffer (lock-protected), ``drain_*()`` (lock-protected),
  ``stats`` (counters), and ``info``/``names`` once ``opened`` is set (never reassigned after).
- **Listeners** are called in the reader thread and must not block; the list is copied under a
  lock before each call round, so adding or removing one from any thread is safe.
"""
