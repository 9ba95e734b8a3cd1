from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "config"
INIT_SQL = CONFIG_DIR / "init-db.sql"
USERS_XML = CONFIG_DIR / "clickhouse-users.xml"
CONFIG_XML = CONFIG_DIR / "clickhouse-config.xml"
