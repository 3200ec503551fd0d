# Config validation and the resolved config file every job reads.
import sys
from pathlib import Path

import yaml

from affrepro.config import ConfigError, check_consistency, config_hash, validate_config
from affrepro.io import write_text

try:
    validate_config(config, source="config (config.yaml plus any --config/--configfile overrides)")
    check_consistency(config, source="config")
except ConfigError as error:
    sys.exit(f"affrepro: {error}")

# Jobs read the validated config from a content-addressed copy, so --config
# overrides reach them too; a changed config gets a new file.
RESOLVED_CONFIG = f"work/config/config-{config_hash(config)}.yaml"
if not Path(RESOLVED_CONFIG).exists():
    write_text(RESOLVED_CONFIG, yaml.safe_dump(dict(config), sort_keys=True))
