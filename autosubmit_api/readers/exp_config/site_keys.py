"""The keys Autosubmit adds to every experiment's data from the site's configuration (its
BasicConfig; docs/data.md A.8.2), with the database password masked.
"""

from __future__ import annotations

import re
from typing import Any, Dict

from autosubmit_api.config import Settings


_SITE_DEFAULTS = {
    "LOCAL_TMP_DIR": "tmp",
    "LOCAL_ASLOG_DIR": "ASLOGS",
    "LOCAL_PROJ_DIR": "proj",
    "DEFAULT_OUTPUT_DIR": "/esarchive/autosubmit/as_output/stats",
    "AS_TIMES_DB": "as_times.db",
    "AUTOSUBMIT_API_URL": "http://192.168.11.91:8081",
    "ALLOWED_HOSTS": "",
    "DENIED_HOSTS": "",
    "CUSTOM_PLATFORMS_PATH": "",
    "DEFAULT_JOBS_CONF": "",
    "DEFAULT_PLATFORMS_CONF": "",
    "SMTP_SERVER": "",
    "MAIL_FROM": "",
    "LOG_RECOVERY_TIMEOUT": 60,
}


def _without_password(url: str) -> str:
    """The connection URL with its password masked: Autosubmit puts the URL into every
    experiment's data, and the config routes serve that data over HTTP."""
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@]*):[^@/]*@", url or "")
    if not match:
        return url
    return match.group(1) + ":***@" + url[match.end() :]


def site_keys(settings: Settings) -> Dict[str, Any]:
    keys = {
        "DB_DIR": settings.db_dir,
        "DB_FILE": settings.db_file,
        "DB_PATH": settings.db_path,
        "LOCAL_ROOT_DIR": settings.local_root_dir,
        "JOBDATA_DIR": settings.jobdata_dir,
        "STRUCTURES_DIR": settings.structures_dir,
        "HISTORICAL_LOG_DIR": settings.historical_log_dir,
        "GLOBAL_LOG_DIR": settings.global_log_dir,
        "DATABASE_BACKEND": settings.db_backend,
        "DATABASE_CONN_URL": _without_password(settings.db_connection_url),
        "CONFIG_FILE_FOUND": settings.rc_path is not None,
    }
    keys.update(_SITE_DEFAULTS)
    return keys
