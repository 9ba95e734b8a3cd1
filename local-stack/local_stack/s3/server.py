"""moto's S3 server on loopback, with the stack's bucket created at start."""

from __future__ import annotations

import logging

import boto3
from moto.server import ThreadedMotoServer


class S3Server:
    def __init__(self, host: str, port: int, bucket: str, region: str) -> None:
        self.host, self.port, self.bucket, self.region = host, port, bucket, region
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        s3 = boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id="local-stack",
            aws_secret_access_key="local-stack",
        )
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        if self.bucket not in existing:
            s3.create_bucket(Bucket=self.bucket)

    def stop(self) -> None:
        self._server.stop()
