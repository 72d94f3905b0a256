"""Customer 360°: records and their fields, search, the profile read model, interactions,
relationships, tags (manual and by rule) and the KYC checklist."""
