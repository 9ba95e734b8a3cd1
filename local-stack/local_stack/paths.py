from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "config"
MIGRATIONS = CONFIG_DIR / "migrations"  # the schema: numbered migrations (click_common.migrations)
USERS_XML = CONFIG_DIR / "clickhouse-users.xml"
CONFIG_XML = CONFIG_DIR / "clickhouse-config.xml"
