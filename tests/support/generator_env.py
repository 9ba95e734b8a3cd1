"""Generator settings shared by the tests that run `python -m snkrs_generator`."""

# One compressed drop cycle with few shoppers: every phase and failure mode, about 10k spans.
COMPRESSED_DROP = {
    "GENERATOR_TIME_SCALE": "20",
    "GENERATOR_PRE_DROP__WORKERS": "3",
    "GENERATOR_DROP_LIVE__WORKERS": "20",
    "GENERATOR_POST_DROP__WORKERS": "4",
    "GENERATOR_INVENTORY_UNITS": "15",  # sells out early with 20 shoppers, so later ones meet 409s
}

# A few shoppers on the simulated clock from a fixed start: the same seed gives the same run.
FEW_SHOPPERS = {
    "GENERATOR_PRE_DROP__WORKERS": "3",
    "GENERATOR_DROP_LIVE__WORKERS": "12",
    "GENERATOR_POST_DROP__WORKERS": "4",
    "GENERATOR_SIM_START_NS": "1780000000000000000",
}
