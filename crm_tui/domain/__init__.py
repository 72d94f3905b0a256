"""Every business rule of crm-tui, grouped by business area. Plain Python: no Textual, no Typer.

- ``kernel``     who acts, the handle, errors, permissions and scope, audit, validation, masking
- ``customers``  records, search, the 360° profile, fields, interactions, relationships, tags, KYC
- ``compliance`` the approval engine and inbox, sensitive changes, suitability, alerts, event feed
- ``sales``      transactions (and the pipeline as it arrives)
- ``policy``     the policy document, its schema and its changes
- ``admin``      sign-in, staff, organisation, keys, backups, set-up
- ``data_io``    file readers, importers and exporters

Areas may import ``kernel`` and ``policy``; import-linter keeps the other arrows one way.
"""
