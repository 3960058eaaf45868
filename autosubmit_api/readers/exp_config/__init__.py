"""The experiment configuration `<exp>/conf/` (docs/data.md A.8): the API's only config parser.

Layout (anchor rule): `conf/expdef_<expid>.conf` exists -> Autosubmit 3 INI files
(`as3_ini`); otherwise Autosubmit 4 YAML merged the way Autosubmit's configuration parser
does (`as4_merge`, with `normalize`, `expansion` for `%KEY%` placeholders and `FOR:` loops, and
`site_keys`), so that `raw` matches the anchor's `filesystem-config`. Each file is read
through `config_files` (bounded YAML, docs/security.md); `model` builds the typed
`ExperimentConfig`; `loading` picks the layout and caches the result by the identity of every
file that went into it.

What the services call, `load_config` and `load_metadata_config`, is re-exported here.
"""

from autosubmit_api.readers.exp_config.loading import load_config, load_metadata_config

__all__ = ["load_config", "load_metadata_config"]
