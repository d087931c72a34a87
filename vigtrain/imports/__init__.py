"""Bulk import of people and their enrolments from a CSV or XLSX file: previewed, all or nothing, idempotent."""
