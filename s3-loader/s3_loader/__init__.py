"""s3-loader: loads the collector's OTLP JSON files from S3 into ClickHouse exactly once."""
