"""The garbage collector of a long-running process of ours (``serve``, ``worker``, ``sync``)."""

from __future__ import annotations

import gc

# Young-generation collections per allocation. CPython's 700 ran the collector every few
# requests on the webhook path, and about once per page a sync reads: at 20,000 the webhook
# ingest rate rose 7-18% in alternating rounds (tests/bench/bench_webhooks.py), and a sync
# with deals and contacts spent 1.5-2 s less of its worker's ~9.5 s of CPU per 20,000
# companies in the collector (a full collection, walking the whole heap, held every thread
# of the worker for ~150 ms eight times). Cycles are still collected, only less often.
GC_YOUNG_THRESHOLD = 20_000


def settle_garbage_collector() -> None:
    """Once started: move what start-up built (modules, the app, pools) out of the
    collector's sight with ``gc.freeze()`` so full collections stop walking it, and collect
    the young generation less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)
