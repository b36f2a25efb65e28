"""The watcher's tasks, each in its own module and each run as its own asyncio task by
``core.tasks.runner``: the height poll and block follower (``heightpoll``, the engine), the
unconfirmed-pool watcher (``pool``), settling and expiry (``settle``), backfill
(``backfill``) and the balance reconciler (``reconcile``). ``core.engine`` wires them: it
owns the store, the event stream and the one-transaction commit every task writes through.
"""
