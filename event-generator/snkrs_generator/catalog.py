"""The simulated world: services, products, shoppers' attributes. Pure data, no personal data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    name: str
    price_usd: float


PRODUCTS: tuple[Product, ...] = (
    Product("DZ5485-612", "Air Jordan 1 Retro High OG 'Chicago Lost & Found'", 180.0),
    Product("DD1391-100", "Nike Dunk Low Retro 'Panda'", 115.0),
    Product("FV5029-006", "Air Jordan 4 Retro 'Bred Reimagined'", 215.0),
    Product("DV0833-105", "Nike Air Max 1 '86 OG 'Big Bubble'", 150.0),
    Product("FD2596-600", "Air Jordan 11 Retro 'Cherry'", 230.0),
    Product("DQ8426-067", "Nike SB Dunk Low 'Concepts Purple Lobster'", 125.0),
    Product("HQ6998-600", "Air Jordan 3 Retro 'Black Cement'", 210.0),
    Product("FZ8117-100", "Nike Air Force 1 Low 'Tiffany & Co. 1837'", 400.0),
)

SIZES: tuple[str, ...] = tuple(f"{s / 2:g}" for s in range(14, 27))  # US 7 .. 13 in half sizes
SIZE_WEIGHTS: tuple[float, ...] = (2, 3, 5, 7, 9, 11, 12, 11, 9, 7, 5, 3, 2)

MEMBER_TIERS: tuple[str, ...] = ("member", "plus", "exclusive-access")
TIER_WEIGHTS: tuple[float, ...] = (80, 17, 3)

REGIONS: tuple[str, ...] = ("us-east", "us-west", "eu-west", "ap-northeast")
REGION_WEIGHTS: tuple[float, ...] = (40, 25, 25, 10)

PLATFORMS: tuple[str, ...] = (
    "SNKRS/5.41.0 (iOS 18.2)",
    "SNKRS/5.41.0 (Android 15)",
    "Mozilla/5.0 SNKRS-Web/2026.11",
)
PLATFORM_WEIGHTS: tuple[float, ...] = (55, 35, 10)
BOT_USER_AGENTS: tuple[str, ...] = ("python-requests/2.32.3", "HeadlessChrome/131.0.6778.85", "okhttp/4.12.0")
BOT_ASNS: tuple[str, ...] = ("AS14061", "AS16509", "AS63949")

SERVICE_VERSIONS: dict[str, str] = {
    "api-gateway": "3.14.2",
    "waiting-room": "1.9.0",
    "account": "2.7.5",
    "feed": "4.2.1",
    "launch": "5.0.3",
    "inventory": "2.11.0",
    "checkout": "6.3.4",
    "payment": "3.8.2",
    "bot-detection": "1.22.0",
    "notification": "2.4.1",
    "order-fulfillment": "1.6.7",
}
SERVICES: tuple[str, ...] = tuple(SERVICE_VERSIONS)

PAYMENT_PROVIDER_HOST = "api.payments-provider.example"
PUSH_PROVIDER_HOST = "push.notify-provider.example"
POSTGRES_HOST = "snkrs-db.internal"
# read replicas: the services' SELECTs go to one of them
DB_REPLICAS: tuple[str, ...] = (
    "snkrs-db-replica-1.internal",
    "snkrs-db-replica-2.internal",
    "snkrs-db-replica-3.internal",
)
REDIS_HOST = "feed-cache.internal"
KAFKA_HOST = "kafka.internal"
ORDERS_TOPIC = "orders"
ORDERS_PARTITIONS = 12
