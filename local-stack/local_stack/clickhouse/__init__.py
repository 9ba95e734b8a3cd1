"""The ClickHouse stand-in: chDB behind ClickHouse's HTTP interface (`server`), one engine for many clients
(`engine`), the SQL text helpers (`sql_text`), the users file (`users`) and the native wire details clients
ask for."""
