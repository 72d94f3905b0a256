"""Products and portfolios (issue 15): the catalogue (fields, import rows, list, retire),
prices and exchange rates, holdings valued in SQL at the latest price and rate (AUM), asset
allocation against the policy's model portfolio per risk level, drift and holdings above
the customer's level, rebalancing suggestions within suitability, the lists RMs work from,
and the maturity reminders job."""
