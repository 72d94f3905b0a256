"""Files in and out: readers for CSV (UTF-8, BOM, GBK) and XLSX, the customer importer and
exporter."""
