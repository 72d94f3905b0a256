"""Command groups of the `crm` command, one module each, registered by `crm_tui.cli`."""
