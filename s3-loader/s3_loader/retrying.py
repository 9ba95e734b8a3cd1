"""Which S3 errors are an outage (worth a retry); the backoff itself, and ClickHouse's outages, are
click_common's."""

from __future__ import annotations

import botocore.exceptions


def is_s3_outage(exc: BaseException) -> bool:
    if isinstance(exc, botocore.exceptions.ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = exc.response.get("Error", {}).get("Code", "")
        return status >= 500 or status == 429 or code in {"SlowDown", "Throttling", "RequestTimeout"}
    return isinstance(
        exc,
        botocore.exceptions.EndpointConnectionError
        | botocore.exceptions.ConnectionClosedError
        | botocore.exceptions.ReadTimeoutError
        | botocore.exceptions.ConnectTimeoutError
        | botocore.exceptions.HTTPClientError
        | ConnectionError
        | TimeoutError,
    )
