"""Sales: transactions with their suitability gate and large-amount approval chains."""
