"""The on-call loop's pure parts: the book of alerts, the response clock, the messages."""
