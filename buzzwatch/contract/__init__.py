"""The mention contract and the records between the stages (what crosses a boundary)."""
