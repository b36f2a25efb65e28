"""XEM/JPY prices: exchange providers, the fallback feed, storage, VWAP, valuation and price alerts.

``providers/`` parse each exchange's answers at the edge into ``PriceTick``, ``Trade`` and
``Candle``; ``feed`` tries them in order under rate limits and backoff; ``store`` keeps ticks,
trades and candles in SQLite; ``vwap``, ``rules`` and ``valuation`` are pure.
"""
