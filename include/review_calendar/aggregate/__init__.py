"""Provincial aggregation: submission states and figures per region, city and province."""
