"""Decisions: the KPI definitions (one SQL implementation each, shared by the KPI screen,
`crm kpi` and reports), periods and scope, targets, the forecast, early warnings and the
report engine. Every figure is computed by the database, never by loading rows."""
