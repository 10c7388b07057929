"""Financial alignment: the supply plan in money: revenue, margin, PO spend, cash need, budget gap (no Dagster)."""
