"""Read model of the reviewers' 审查日历 pages."""
