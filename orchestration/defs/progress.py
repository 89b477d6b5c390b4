"""What a step logs for the terminal of the process that launched its run: ``orchestration.runs`` reads these lines
from the run's event log while the run goes. A module of its own, without imports, so that the launching process
reads them without loading dbt (seconds of import, paid by the dbt step only when one runs)."""

#: The dbt step logs each model as it is built with this prefix.
DBT_PROGRESS_PREFIX = "dbt progress: "
