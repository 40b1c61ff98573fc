"""HTTP routes of the simulator, one module per family; each stays thin and delegates."""
