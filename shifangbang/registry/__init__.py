"""The workshop registry (建档), one module per job:

- validation: clean() turns a form or a sheet row into model values, or a ValidationError;
- editing: create, edit and change the status of a workshop (audited, optimistic locking);
- listing: the filtered list scoped to the actor's jurisdiction;
- importing: read a sheet, dry-run it, apply all rows or none;
- exporting: CSV/XLSX of the list (regulators only, never the ID-card number);
- errors and guard: the errors every part raises and the authorisation check every part uses.

Callers use `from shifangbang import registry` and the names below.
"""

from .editing import (
    AUDIT_FIELDS,
    change_status,
    create_workshop,
    get_workshop,
    is_closed,
    update_workshop,
)
from .errors import CONFLICT_MESSAGE, ConflictError, ImportFileError, RegistryError, ValidationError
from .exporting import EXPORT_HEADER, export_csv, export_rows, export_xlsx
from .importing import (
    COLUMNS,
    MAX_ROWS,
    REQUIRED_COLUMNS,
    ImportReport,
    dry_run,
    import_rows,
    read_sheet,
    template_csv,
)
from .listing import Filters, categories, list_query, stations_for
from .validation import clean, normalise_phone, parse_date

__all__ = [
    "AUDIT_FIELDS",
    "COLUMNS",
    "CONFLICT_MESSAGE",
    "EXPORT_HEADER",
    "MAX_ROWS",
    "REQUIRED_COLUMNS",
    "ConflictError",
    "Filters",
    "ImportFileError",
    "ImportReport",
    "RegistryError",
    "ValidationError",
    "categories",
    "change_status",
    "clean",
    "create_workshop",
    "dry_run",
    "export_csv",
    "export_rows",
    "export_xlsx",
    "get_workshop",
    "import_rows",
    "is_closed",
    "list_query",
    "normalise_phone",
    "parse_date",
    "read_sheet",
    "stations_for",
    "template_csv",
    "update_workshop",
]
