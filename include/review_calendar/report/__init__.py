"""Reports: Excel workbooks, HTML pages and SVG charts written for reviewers."""
