"""The S3 stand-in: moto's S3 server (`server`) and the awss3exporter's object keys and bodies (`layout`)."""
