"""The supervisors' side: live figures pushed to the dashboard, charts, the drill-down by area and the
tickets board. Queries here return plain data; ``web/dashboard.py`` serves them."""
