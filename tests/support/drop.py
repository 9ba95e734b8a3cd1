"""One compressed drop cycle with few shoppers, as the pipeline tests run it: every phase and failure mode,
about 10k spans."""

GENERATOR_ENV = {
    "GENERATOR_TIME_SCALE": "20",
    "GENERATOR_PRE_DROP__WORKERS": "3",
    "GENERATOR_DROP_LIVE__WORKERS": "20",
    "GENERATOR_POST_DROP__WORKERS": "4",
    "GENERATOR_INVENTORY_UNITS": "15",  # sells out early with 20 shoppers, so later ones meet 409s
}
