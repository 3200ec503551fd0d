"""config.yaml: one module per role. This file imports none of them, so a job's code version
(affrepro.codeversion) holds only the roles it uses.

- `reading`: REPO_ROOT, ConfigError and reading YAML files with a message naming the file.
- `schema`: validation against workflow/schemas/config.schema.yaml, naming the offending key.
- `command_line`: Snakemake's `--config` values typed by the schema and merged in.
- `consistency`: cross-key rules JSON Schema cannot express, each paper's from its registry entry.
- `load`: `load_config`, the three above in order.
- `resolve`: demo against real data: the effective config a paper's runs use, and its hash.
- `weights`: a real run's model weights: unset or not loadable offline, or a disallowed substitute.

Which stand-ins a run used (and so records in its provenance) is affrepro.substitutes.
"""
