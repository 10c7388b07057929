"""The executive S&OP pack (SPEC §10): the page of the meeting, the KPI history and the plan bridge."""
