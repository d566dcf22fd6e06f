"""Provincial aggregation: submission states and figures per region, city and province.

- :mod:`.states`: the one submission-state rule (aggregation, reports, pages and reminders ask it);
- :mod:`.figures`: the key figures of each dataset;
- :mod:`.criteria`: Programme B's recognition criteria per cluster;
- :mod:`.compute`: the region, city and province frames of an instance;
- :mod:`.write`: the ``aggregates`` table (compute and upsert);
- :mod:`.national`: Programme B's national roll-up.
"""
