#!/usr/bin/env bash
# check: IntegrationTests (every guest run, recorded and replayed exactly; damage; seeks)
# smoke: yes
# timeout: 2400
set -euo pipefail
. /testbed/lib.sh
skip=()
if smoke; then
  # Fewer repetitions of the randomized tests; every guest is still recorded and replayed.
  export RETROVISOR_REPLAYS=${RETROVISOR_REPLAYS:-2} RETROVISOR_KILLS=${RETROVISOR_KILLS:-3}
  export RETROVISOR_BITFLIPS=${RETROVISOR_BITFLIPS:-50} RETROVISOR_TRUNCATION_STRIDE=${RETROVISOR_TRUNCATION_STRIDE:-40}
  export RETROVISOR_SEEKS=${RETROVISOR_SEEKS:-5}
  # Cutting a file at hundreds of lengths checks the file format, not KVM (and takes ~6 min
  # here): the host suite covers it.
  skip=(--skip 'RecordingDamageTests/truncatedRecordingsAreReported')
fi
tb_swift_test '^IntegrationTests\.' "${skip[@]}"
