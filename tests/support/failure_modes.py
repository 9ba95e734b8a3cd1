"""What each generator failure mode leaves behind, as the tests look for it: an error span whose status
message holds the phrase (for a 4xx, the caller's CLIENT span, as the HTTP conventions say) and an exception
log record of the raising service, of that exception class, in the same trace."""

# (status message phrase, exception class, service that raises it)
FAILURE_MODES = [
    ("payment provider timed out", "PaymentProviderTimeout", "payment"),
    ("lock wait timeout on inventory row", "InventoryLockTimeout", "inventory"),
    ("sold out", "SoldOut", "inventory"),
    ("bot blocked", "BotBlocked", "bot-detection"),
    ("rate limited", "RateLimited", "bot-detection"),
    ("cache stampede on product:", "CacheStampedeTimeout", "feed"),
    ("waiting room backlog", "WaitingRoomBacklog", "waiting-room"),
]
