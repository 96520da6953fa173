"""Reports for supervisors: per campaign, per day, per operator and shift, per assembly constituency.

Each report is a pure query over a SQLAlchemy session returning plain data (:class:`reports.model.Report`);
``reports.export`` turns one into CSV, XLSX or an aligned text table. Import the submodules directly
(this package imports nothing, so the settings can use ``reports.shifts`` cheaply)."""
