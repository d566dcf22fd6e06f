"""The provincial data-quality gate (Great Expectations) that runs before every aggregation."""
