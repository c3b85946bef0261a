"""The pipeline and the detector without Kafka: backtests, the simulator, alert diffs."""
