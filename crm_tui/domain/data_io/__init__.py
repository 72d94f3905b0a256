"""Files in and out: readers for CSV (UTF-8, BOM, GBK) and XLSX, the customer, lead and
ticket importers, and the exports (`export_file` writes any entity's plan; `exporter` plans
customers, `record_export` leads, opportunities and tickets)."""
