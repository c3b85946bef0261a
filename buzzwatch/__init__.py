"""Buzzwatch core: pure, framework-free code (no Kafka, no Faust, no clock).

Everything that decides what a mention is, how it is scored, how it is bucketed in event
time and whether a brand is in a bad buzz lives here, so that the live agents, a replay and
the offline backtest run exactly the same code.
"""

__version__ = "0.1.0"
