from click_common.config import run_main

from .service import main

run_main("s3_loader", main)
