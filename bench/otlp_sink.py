"""A local OTLP/HTTP receiver that counts the spans it gets, for measuring what
tracing costs (``bench/README.md``):

    python bench/otlp_sink.py --port 4318 &
    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 python bench/compare_alertmanager.py --quick
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.otlp_receiver import OtlpReceiver


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=4318)
    args = parser.parse_args()
    receiver = OtlpReceiver(args.port)
    print(f"OTLP receiver on {receiver.url}", flush=True)
    try:
        while True:
            time.sleep(10)
            print(f"{len(receiver.spans)} spans received", flush=True)
    except KeyboardInterrupt:
        receiver.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
