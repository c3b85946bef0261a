"""Faust agents: short loops that decode, call the pure core (``buzzwatch``), and send."""
